package io.avatarserver.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * First on every request: the limits the HTTP decoder does not enforce itself, and the response
 * header every answer carries.
 */
final class RequestChecks {

  private final int maxHeaders;

  RequestChecks(int maxHeaders) {
    this.maxHeaders = maxHeaders;
  }

  void check(RoutingContext ctx) {
    ctx.response().putHeader("X-Content-Type-Options", "nosniff");
    HttpServerRequest request = ctx.request();
    // MultiMap.size() counts distinct names; repeated fields count one by one.
    if (request.headers().entries().size() > maxHeaders) {
      throw Problem.HEADERS_TOO_LARGE.exception("More than " + maxHeaders + " header fields");
    }
    // Content-Length together with Transfer-Encoding never gets here: StrictRequestDecoder refuses it.
    if (request.headers().getAll(HttpHeaders.CONTENT_LENGTH).size() > 1) {
      throw Problem.BAD_REQUEST.exception("More than one Content-Length");
    }
    // Vert.x Web fails a malformed escape ("/%zz") while matching routes, and its error handler then
    // sees neither a status nor a cause (a 500): refused here first.
    String path = request.path();
    if (path != null && MALFORMED_ESCAPE.matcher(path).find()) {
      throw Problem.BAD_REQUEST.exception("The path has a malformed percent-encoding ('%' not followed by two hex digits)");
    }
    // RFC 9110 §10.1.1: 100-continue is the only expectation defined; any other is 417.
    java.util.List<String> expect = request.headers().getAll(HttpHeaders.EXPECT);
    if (!expect.isEmpty() && !(expect.size() == 1 && "100-continue".equalsIgnoreCase(expect.get(0).trim()))) {
      throw Problem.EXPECTATION_FAILED.exception("The only expectation this server meets is Expect: 100-continue");
    }
    ctx.next();
  }

  private static final java.util.regex.Pattern MALFORMED_ESCAPE = java.util.regex.Pattern.compile("%(?![0-9A-Fa-f]{2})");

  /** RFC 3986 authority as a Host field value: reg-name, IPv4 or IP literal, an optional port. */
  private static final java.util.regex.Pattern HOST = java.util.regex.Pattern.compile(
    "(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9\\-._~%!$&'()*+,;=]*)(:[0-9]*)?");

  /**
   * Why {@code request}'s Host is refused (RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host,
   * or with one that is not an authority, is 400), or null. Checked before routing: Vert.x Web fails
   * such a request with an exception that became a 500.
   */
  static String hostProblem(HttpServerRequest request) {
    if (request.version() == io.vertx.core.http.HttpVersion.HTTP_2) {
      return null; // the authority is a pseudo-header there, and Vert.x checks it
    }
    java.util.List<String> hosts = request.headers().getAll(HttpHeaders.HOST);
    if (hosts.isEmpty()) {
      return request.version() == io.vertx.core.http.HttpVersion.HTTP_1_0 ? null : "An HTTP/1.1 request needs a Host header";
    }
    if (hosts.size() > 1) {
      return "More than one Host header";
    }
    if (!HOST.matcher(hosts.get(0).trim()).matches()) {
      return "The Host header is not a host name or address with an optional port";
    }
    return null;
  }
}
