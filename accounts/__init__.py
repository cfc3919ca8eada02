"""Who may use the site and who uploads: site users, Bilibili accounts and their credentials.

What lives here: `BilibiliAccount` (a cookies.json credential, its status and expiry), API tokens
and the sign-in rules (`signin`, the lockout shared by the API and the login page), the QR login
workflow (`login`), the periodic credential check and cookie refresh (`health`), cookies.json
import and export (`cookiefile`, `credentials`), each account's cached category list
(`categories`), and the accounts pages and API. The Bilibili calls themselves (passport, nav,
myinfo, archive_pre) are `biliup_site.bilibili`'s; this app stores, caches and schedules them.

Who may import it: `uploads` (an upload runs as an account; the template page's category
picker), `creators`, and `biliup_site` (the API's token check, the dashboard). It imports only
`biliup_site` and `biliup_site.bilibili`, never another app.
"""
