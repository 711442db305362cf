package io.avatarserver.http;

import io.avatarserver.avatar.AvatarService;
import io.avatarserver.avatar.SavedAvatar;
import io.avatarserver.upload.image.ImageType;
import io.avatarserver.upload.UploadSession;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerFileUpload;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.streams.Pipe;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.web.RoutingContext;

import java.util.Locale;

/**
 * {@code PUT} (raw image body) and {@code POST} (multipart, field {@code avatar}) on
 * {@code /users/{id}/avatar}. Thin: checks what the request line and headers already decide, then
 * hands the paused body to the upload pipeline. No BodyHandler: the body is never buffered.
 */
final class UploadHandler {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UploadHandler.class);

  /** The multipart field that carries the image. */
  static final String FIELD = "avatar";

  private final AvatarService avatars;
  /** The largest avatar accepted: a declared Content-Length above it is refused before the body. */
  private final long maxBytes;
  private final int multipartOverhead;
  /** The avatar's info as {@code GET …/info} answers it: the body of a successful upload. */
  private final java.util.function.Function<io.avatarserver.avatar.Avatar, io.vertx.core.json.JsonObject> info;

  UploadHandler(AvatarService avatars, long maxBytes, int multipartOverhead,
                java.util.function.Function<io.avatarserver.avatar.Avatar, io.vertx.core.json.JsonObject> info) {
    this.info = info;
    this.avatars = avatars;
    this.maxBytes = maxBytes;
    this.multipartOverhead = multipartOverhead;
  }

  void put(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    // Take the body before the first asynchronous step: pipe() pauses the request.
    Pipe<Buffer> body = SocketPausingBody.pipe(ctx, request).endOnFailure(false);
    long userId = Ids.parse(ctx.pathParam("id"));
    ImageType declared = ImageType.declaredBy(request.getHeader(HttpHeaders.CONTENT_TYPE));
    refuseDeclaredLength(request, maxBytes);
    avatars.beginUpload(userId)
      .compose(session -> {
        sendContinue(ctx);
        return session.finish(session.receive(body, declared));
      })
      .onSuccess(saved -> respond(ctx, saved))
      .onFailure(ctx::fail);
  }

  void postMultipart(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    ReadStream<Buffer> paused = SocketPausingBody.of(ctx, request).pause();
    long userId = Ids.parse(ctx.pathParam("id"));
    String contentType = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
      throw Problem.UNSUPPORTED_MEDIA_TYPE.exception(
        "POST takes multipart/form-data with the image in field '" + FIELD + "'; PUT takes the raw image");
    }
    refuseDeclaredLength(request, maxBytes + multipartOverhead);
    avatars.beginUpload(userId)
      .compose(session -> session.finish(new MultipartReceiver(ctx, paused, session).start()))
      .onSuccess(saved -> respond(ctx, saved))
      .onFailure(ctx::fail);
  }

  /** A client's value quoted in a detail: at most 64 characters. */
  private static String abbreviated(String value) {
    return value == null ? "" : value.length() <= 64 ? value : value.substring(0, 64) + "…";
  }

  /** Content-Length above the cap is refused before a byte is read (and instead of 100 Continue). */
  private static void refuseDeclaredLength(HttpServerRequest request, long max) {
    String header = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (header == null) {
      return; // chunked: counted as it streams
    }
    long length;
    try {
      length = Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      throw Problem.BAD_REQUEST.exception("Content-Length is not a number");
    }
    if (length > max) {
      throw Problem.PAYLOAD_TOO_LARGE.exception(
        "Content-Length " + length + " is larger than the limit of " + max + " bytes");
    }
  }

  /** RFC 9110 §10.1.1: the client waits for 100 before sending; we send it only once we will read. */
  private static void sendContinue(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (request.version() == HttpVersion.HTTP_1_1
      && "100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
      ctx.put(ProblemResponder.CONTINUE_SENT, true);
      ctx.response().writeContinue();
    }
  }

  private void respond(RoutingContext ctx, SavedAvatar saved) {
    ctx.response()
      .setStatusCode(saved.replaced() ? 200 : 201)
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .putHeader(HttpHeaders.LOCATION, AvatarJson.avatarPath(saved.current().userId()))
      .end(info.apply(saved.current()).toBuffer());
  }

  /**
   * Streams the one file part named {@code avatar} into the session. Other file parts are refused;
   * text fields are bounded by the server's form limits and ignored.
   */
  private static final class MultipartReceiver {
    private final RoutingContext ctx;
    /** The request, paused with its socket until the parts are read. */
    private final ReadStream<Buffer> paused;
    private final UploadSession session;
    private final Promise<Void> done = Promise.promise();
    private Future<Void> part;
    private boolean requestEnded;

    MultipartReceiver(RoutingContext ctx, ReadStream<Buffer> paused, UploadSession session) {
      this.ctx = ctx;
      this.paused = paused;
      this.session = session;
    }

    Future<Void> start() {
      HttpServerRequest request = ctx.request();
      try {
        request.setExpectMultipart(true);
      } catch (RuntimeException e) {
        // An empty "boundary=" makes Vert.x 5.0.10 throw StringIndexOutOfBoundsException here.
        LOG.debug("{}: multipart refused by Vert.x", request.path(), e);
        return Future.failedFuture(Problem.BAD_REQUEST.exception(
          "The multipart body cannot be read: its Content-Type needs a non-empty boundary parameter"));
      }
      request.uploadHandler(this::onPart);
      request.exceptionHandler(err -> {
        if (err instanceof HttpClosedException) {
          done.tryFail(err);
          return;
        }
        // Netty's decoder words it ("Size exceed allowed maximum capacity", "Bad end of line"…): log it,
        // answer in ours.
        LOG.debug("{}: malformed multipart body: {}", request.path(), err.toString());
        done.tryFail(Problem.BAD_REQUEST.exception("The multipart body is malformed, or a field or part header in it"
          + " is larger than the server accepts"));
      });
      request.endHandler(v -> {
        requestEnded = true;
        if (part == null) {
          done.tryFail(Problem.MISSING_AVATAR_PART.exception("No file part named '" + FIELD + "'"));
        } else {
          part.onComplete(done);
        }
      });
      sendContinue(ctx);
      paused.resume();
      return done.future();
    }

    private void onPart(HttpServerFileUpload upload) {
      if (part != null || !FIELD.equals(upload.name())) {
        upload.handler(null);
        done.tryFail(Problem.UNEXPECTED_PART.exception(
          "Only one file part, named '" + FIELD + "', is accepted; got " + (FIELD.equals(upload.name())
            ? "a second one" : "one named '" + abbreviated(upload.name()) + "'")));
        return;
      }
      ImageType declared;
      try {
        declared = ImageType.declaredBy(upload.contentType());
      } catch (RuntimeException refused) {
        part = Future.failedFuture(refused);
        done.tryFail(refused);
        return;
      }
      part = session.receive(SocketPausingBody.pipe(ctx, upload).endOnFailure(false), declared)
        .onFailure(done::tryFail)
        .onSuccess(v -> {
          if (requestEnded) {
            done.tryComplete();
          }
        });
    }
  }
}
