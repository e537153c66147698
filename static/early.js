// The one script that runs before the page is first painted (a classic script in <head>; the
// rest is a module, which runs only once the whole page is parsed, and a 5,000-row page paints
// before that). If the reader set an order of their own (dashboard/order.js), the boards stay
// hidden until dashboard.js has applied it, so that a reload never shows the server's order
// first; the stylesheet shows them after a second anyway, should the module never run.
try {
  if (localStorage.getItem("issuebridge.order")) document.documentElement.dataset.arranging = "";
} catch {
  // storage refused (private mode, a policy): there is no order of the reader's to wait for
}
