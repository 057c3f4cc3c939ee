"""`tunnelhunt serve`: incident review in the browser (Starlette pages and a versioned JSON API over
`actions/`), beside the watcher in the same process. See docs/web.md."""
