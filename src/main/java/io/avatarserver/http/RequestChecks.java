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
    ctx.next();
  }

  private static final java.util.regex.Pattern MALFORMED_ESCAPE = java.util.regex.Pattern.compile("%(?![0-9A-Fa-f]{2})");
}
