"""The site itself: settings, URLs, ASGI, the shared web plumbing, and the Bilibili protocol.

What lives here: `settings`, `urls`, `asgi` and `routers`; the plumbing every app's views use
(`api` for the JSON API's decorator and errors, `forms` for binding, `http` for request types,
`middleware` for what every request must pass (no NUL, which PostgreSQL can't store),
`pages` for rendering a page or one of its partials, `live` for change events on the channel
layer, `consumers` for both WebSockets); the site-wide `Configuration` model, its page and
API; the image `proxy`; `openapi`, the API's document; the `serve` command that runs the whole
system; and `bilibili/`, the pure Bilibili protocol clients (see its own docstring).

Who may import it: every app imports the plumbing and `bilibili`. Only the modules that tie the
site together (`urls`, `asgi`, `consumers`, the dashboard `views`, `site_api`) import the apps
back, and `api`, whose token check reads `accounts`' ApiToken; the rest of the plumbing and
`bilibili/` import no app.
"""
