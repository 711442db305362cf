package io.avatarserver.http;

import io.avatarserver.avatar.AvatarException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that answers a failed request: maps the failure to its {@link Problem} and sends an
 * RFC 9457 {@code application/problem+json} body. Unknown failures are logged with their cause and
 * become 500.
 *
 * <p>A refusal often comes before the request body was read (413 on Content-Length, 404 for an
 * unknown user, …) or in the middle of it. Vert.x keeps such a connection open with the body
 * unread, so this class closes it: at once when the client is waiting for {@code 100 Continue}
 * (it has sent no body), otherwise after reading and discarding what the client still sends for at
 * most {@code lingerMillis}. Closing with unread bytes in the socket makes the kernel answer with a
 * TCP reset that can destroy the response before the client reads it (RFC 9112 §9.6, "lingering
 * close", as nginx's lingering_close does).
 */
public final class ProblemResponder implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger(ProblemResponder.class);
  static final String PROBLEM_JSON = "application/problem+json";
  /** Set by a handler once it has sent {@code 100 Continue}: from then on the client sends its body. */
  static final String CONTINUE_SENT = "avatar.continueSent";

  private final long lingerMillis;

  public ProblemResponder(long lingerMillis) {
    this.lingerMillis = lingerMillis;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    Throwable failure = ctx.failure();
    if (response.closed()) {
      // The client went away (reset, disconnect mid-body): nobody to answer.
      LOG.debug("{} {}: connection closed before an answer: {}", ctx.request().method(), ctx.request().path(),
        failure == null ? "-" : failure.toString());
      return;
    }
    if (response.headWritten()) {
      // Failed while streaming a body out: the status is gone, only closing tells the client.
      LOG.warn("{} {} failed after the response head was sent", ctx.request().method(), ctx.request().path(), failure);
      ctx.request().connection().close();
      return;
    }
    if (failure instanceof AvatarException refused) {
      if (refused.retryAfterSeconds() > 0) {
        response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(refused.retryAfterSeconds()));
      }
      send(ctx, Problem.of(refused.failure()), refused.detail());
    } else if (failure instanceof ProblemException problem) {
      if (problem.retryAfterSeconds() > 0) {
        response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(problem.retryAfterSeconds()));
      }
      send(ctx, problem.problem(), problem.detail());
    } else if (failure instanceof HttpException http) {
      // Vert.x Web's own refusals: the payload is the library's text, for the log, not the client.
      LOG.debug("{} {}: {} {}", ctx.request().method(), ctx.request().path(), http.getStatusCode(), http.getPayload());
      send(ctx, byStatus(http.getStatusCode()), null);
    } else if (failure == null) {
      send(ctx, byStatus(ctx.statusCode()), null);
    } else {
      LOG.error("{} {} failed unexpectedly", ctx.request().method(), ctx.request().path(), failure);
      send(ctx, Problem.INTERNAL, null);
    }
  }

  private static Problem byStatus(int status) {
    return switch (status) {
      case 400 -> Problem.BAD_REQUEST;
      case 404 -> Problem.NOT_FOUND;
      case 405 -> Problem.METHOD_NOT_ALLOWED;
      case 417 -> Problem.EXPECTATION_FAILED;
      case 413 -> Problem.PAYLOAD_TOO_LARGE;
      case 415 -> Problem.UNSUPPORTED_MEDIA_TYPE;
      default -> Problem.INTERNAL;
    };
  }

  private void send(RoutingContext ctx, Problem problem, String detail) {
    HttpServerRequest request = ctx.request();
    HttpServerResponse response = ctx.response();
    // A request without a body (no Content-Length or 0, not chunked) has nothing to leave unread, even
    // when its (empty) end has not been read yet: the connection stays open for the next request.
    boolean bodyUnread = !request.isEnded() && hasBody(request);
    // A 413 closes the connection even when the body has meanwhile been drained: a client that sends
    // too much is not offered the connection for more.
    boolean close = bodyUnread || problem == Problem.PAYLOAD_TOO_LARGE;
    JsonObject body = new JsonObject()
      .put("type", problem.type())
      .put("title", problem.title())
      .put("status", problem.status())
      .put("detail", detail != null ? detail : problem.title())
      .put("instance", request.path());
    response.setStatusCode(problem.status()).putHeader(HttpHeaders.CONTENT_TYPE, PROBLEM_JSON);
    if (problem.status() == 503 && !response.headers().contains(HttpHeaders.RETRY_AFTER)) {
      response.putHeader(HttpHeaders.RETRY_AFTER, "5");
    }
    // RFC 6750 §3: the challenge, and for a token that was sent but refused, why.
    if (problem == Problem.UNAUTHORIZED) {
      response.putHeader("WWW-Authenticate", "Bearer realm=\"avatar-server\"");
    } else if (problem == Problem.INVALID_TOKEN) {
      response.putHeader("WWW-Authenticate", "Bearer realm=\"avatar-server\", error=\"invalid_token\"");
    }
    if (close && request.version() != HttpVersion.HTTP_2) {
      response.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    } else if (!close) {
      // The connection stays open for the next request: an upload refused before its pipe started
      // (415 on a PUT without a body) still holds its socket paused, with the request's end unread.
      SocketPausingBody.release(ctx);
    }
    response.end(body.toBuffer()).onComplete(ar -> {
      if (close) {
        closeUnreadBody(ctx);
      }
    });
  }

  private static boolean hasBody(HttpServerRequest request) {
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    return request.headers().contains(HttpHeaders.TRANSFER_ENCODING) || length != null && !length.trim().equals("0");
  }

  /**
   * For requests the HTTP decoder could not parse (malformed framing, a head over the size limit):
   * a problem body instead of Vert.x's empty one, then the connection is closed, since where the next
   * request would start is unknown.
   */
  public static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    boolean tooLong = cause instanceof io.netty.handler.codec.TooLongFrameException;
    Problem problem = tooLong ? Problem.HEADERS_TOO_LARGE : Problem.BAD_REQUEST;
    // The decoder's message (Netty's wording, a header value quoted back) goes to the log only.
    LOG.debug("Unparseable request from {}: {}", request.remoteAddress(), String.valueOf(cause));
    refuseAndClose(request, problem,
      tooLong ? "The request line or a header field is longer than the server accepts" : malformed(request));
  }

  /**
   * A refusal before routing (no RoutingContext): the problem body, then the connection is closed, as
   * the request's body (if any) is left unread.
   */
  static void refuseAndClose(HttpServerRequest request, Problem problem, String detail) {
    JsonObject body = new JsonObject()
      .put("type", problem.type())
      .put("title", problem.title())
      .put("status", problem.status())
      .put("detail", detail);
    request.response()
      .setStatusCode(problem.status())
      .putHeader(HttpHeaders.CONTENT_TYPE, PROBLEM_JSON)
      .putHeader("X-Content-Type-Options", "nosniff")
      .putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE)
      .end(body.toBuffer())
      .onComplete(ar -> request.connection().close());
  }

  /** What is wrong with a request the decoder refused, from the header fields it had read, if any. */
  private static String malformed(HttpServerRequest request) {
    io.vertx.core.MultiMap headers;
    try {
      headers = request.headers();
    } catch (RuntimeException none) {
      headers = io.vertx.core.MultiMap.caseInsensitiveMultiMap();
    }
    java.util.List<String> lengths = headers.getAll(HttpHeaders.CONTENT_LENGTH);
    if (!lengths.isEmpty() && headers.contains(HttpHeaders.TRANSFER_ENCODING)) {
      return "Content-Length together with Transfer-Encoding is refused: the body's end would be ambiguous";
    }
    java.util.List<String> codings = headers.getAll(HttpHeaders.TRANSFER_ENCODING);
    if (!codings.isEmpty() && !(codings.size() == 1 && "chunked".equalsIgnoreCase(codings.get(0).trim()))) {
      return "Transfer-Encoding other than chunked alone is refused: the body's end would be ambiguous";
    }
    if (lengths.size() > 1 || (lengths.size() == 1 && lengths.get(0).contains(","))) {
      return "The request has more than one Content-Length";
    }
    if (lengths.size() == 1 && !lengths.get(0).trim().matches("[0-9]{1,18}")) {
      return "Content-Length is not a number";
    }
    return "The request is not valid HTTP/1.1: its request line, a header field or its framing cannot be parsed";
  }

  private void closeUnreadBody(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (request.version() == HttpVersion.HTTP_2) {
      // RFC 9113 §8.1: a complete response may be followed by RST_STREAM(NO_ERROR) to stop the upload.
      ctx.response().reset(0);
      return;
    }
    boolean awaitingContinue = "100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))
      && !Boolean.TRUE.equals(ctx.get(CONTINUE_SENT));
    if (awaitingContinue || lingerMillis == 0 || request.isEnded()) {
      request.connection().close();
      return;
    }
    long timer = ctx.vertx().setTimer(lingerMillis, id -> request.connection().close());
    request.exceptionHandler(err -> { });
    if (request.isExpectMultipart()) {
      request.uploadHandler(upload -> { });
    }
    request.handler(discarded -> { });
    SocketPausingBody.release(ctx);
    request.endHandler(v -> {
      ctx.vertx().cancelTimer(timer);
      request.connection().close();
    });
    request.resume();
  }
}
