package io.avatarserver.http;

import io.avatarserver.auth.Principal;
import io.avatarserver.auth.Tokens;
import io.avatarserver.limits.RateLimiter;
import io.avatarserver.limits.UploadSlots;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * The checks in front of every write, in the order they run, each before a byte of the body is read
 * (the request is paused first): the client address's rate (429), the bearer token (401), the
 * owner (403), the user's rate (429), and, for uploads, a slot (503 or 429).
 */
final class WriteGuards {

  private static final String PRINCIPAL = "avatar.principal";
  private static final String BEARER = "bearer ";

  private final Tokens tokens;
  private final RateLimiter byAddress;
  private final RateLimiter byUser;
  private final UploadSlots slots;

  WriteGuards(Tokens tokens, RateLimiter byAddress, RateLimiter byUser, UploadSlots slots) {
    this.tokens = tokens;
    this.byAddress = byAddress;
    this.byUser = byUser;
    this.slots = slots;
  }

  /** First on every write route: pause the body, then the per-address rate. */
  void addressRate(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    request.pause();
    String address = request.remoteAddress() == null ? "unknown" : request.remoteAddress().host();
    long wait = byAddress.tryAcquire(address, System.nanoTime());
    if (wait > 0) {
      throw Problem.TOO_MANY_REQUESTS.exception("Too many writes from " + address, wait);
    }
    ctx.next();
  }

  /**
   * RFC 6750: a missing token is 401 with a bare challenge; a bad one adds error="invalid_token".
   * Verification is one HMAC, done here on the event loop; every refusal is {@code INVALID_TOKEN}.
   */
  void authenticate(RoutingContext ctx) {
    java.util.List<String> headers = ctx.request().headers().getAll(HttpHeaders.AUTHORIZATION);
    String header = headers.isEmpty() ? null : headers.get(0);
    if (header == null || header.isBlank()) {
      throw Problem.UNAUTHORIZED.exception("This route needs an Authorization: Bearer token");
    }
    if (headers.size() > 1) {
      throw Problem.INVALID_TOKEN.exception("Send one Authorization header, not " + headers.size());
    }
    if (header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      throw Problem.INVALID_TOKEN.exception("The Authorization header is not a Bearer token");
    }
    ctx.put(PRINCIPAL, tokens.principalOf(header.substring(BEARER.length()).trim()));
    ctx.next();
  }

  /** The token's user must own the avatar in the path (or be an admin); then the user's rate. */
  void ownerOnly(RoutingContext ctx) {
    long owner = Ids.parse(ctx.pathParam("id"));
    Principal principal = ctx.get(PRINCIPAL);
    if (!principal.mayWriteAvatarOf(owner)) {
      throw Problem.FORBIDDEN.exception("This token may not write the avatar of user " + owner);
    }
    if (principal.userId() > 0) {
      long wait = byUser.tryAcquire(principal.userId(), System.nanoTime());
      if (wait > 0) {
        throw Problem.TOO_MANY_REQUESTS.exception("Too many writes by user " + principal.userId(), wait);
      }
    }
    ctx.next();
  }

  void adminOnly(RoutingContext ctx) {
    Principal principal = ctx.get(PRINCIPAL);
    if (!principal.admin()) {
      throw Problem.FORBIDDEN.exception("Only an admin token may do this");
    }
    ctx.next();
  }

  /** Holds an upload slot for the path's user until the response is done or the connection gone. */
  void uploadSlot(RoutingContext ctx) {
    Runnable release = slots.acquire(Ids.parse(ctx.pathParam("id")));
    ctx.addEndHandler(ignored -> release.run());
    ctx.next();
  }
}
