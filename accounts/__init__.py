"""Who may use the site and who uploads: site users, Bilibili accounts and their credentials.

What lives here: `BilibiliAccount` (a cookies.json credential, its status and expiry), API tokens
and the sign-in rules (`signin`, the lockout shared by the API and the login page), the QR login
workflow (`login`), the periodic credential check and cookie refresh (`health`), cookies.json
import and export (`cookiefile`, `credentials`), and the accounts pages and API. The Bilibili
calls themselves (passport, nav, myinfo) are `biliup_site.bilibili`'s; this app stores and
schedules them.

Who may import it: `uploads` (an upload runs as an account), `biliup_site` (the API's token
check, the dashboard). It imports `biliup_site` and `biliup_site.bilibili`, and no other app
except to list categories from `uploads` for its API.
"""
