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
    ctx.next();
  }
}
