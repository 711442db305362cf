// Swagger UI for this server's own document; no inline script, so the page's CSP can forbid them.
window.addEventListener('DOMContentLoaded', function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });
});
