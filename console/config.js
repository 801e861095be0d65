// flowcgi console settings. The console reads only this file and the API;
// edit it where the defaults do not fit (shared hosting, another mount point).
export default {
  // The API's base URL. null: "../api" relative to the console's own URL
  // (console at /console/ -> API at /api). On shared hosting with the program
  // at /cgi-bin/flowcgi.fcgi, set '/cgi-bin/flowcgi.fcgi/api' (or without
  // /api: the program takes both). A non-empty <meta name="flowcgi-api"> in
  // index.html wins over this.
  apiBase: null,

  // Dry runs and traces (?dryRun=true, ?trace=true) on the trigger form.
  // null: offered when the server's OpenAPI document (/api/openapi.json)
  // mentions dryRun; true / false: always / never offered.
  dryRun: null,

  // Rows per page in the executions list.
  pageSize: 20,
};
