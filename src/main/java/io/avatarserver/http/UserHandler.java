package io.avatarserver.http;

import io.avatarserver.avatar.AvatarService;
import io.avatarserver.avatar.Failure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Locale;

/**
 * {@code POST /users}: a small JSON body, read here after the token was checked, bounded to
 * {@code maxBodyBytes} (no BodyHandler: its refusals would be Vert.x's, not ours). Anything but
 * {@code application/json} is 415; a body over the bound is 413 {@code request-too-large}, refused
 * on its Content-Length before a byte is read, or as soon as a chunked body passes it.
 */
final class UserHandler {


  private final AvatarService avatars;
  private final int maxBodyBytes;

  UserHandler(AvatarService avatars, int maxBodyBytes) {
    this.avatars = avatars;
    this.maxBodyBytes = maxBodyBytes;
  }

  void create(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String contentType = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (!isJson(contentType)) {
      throw Problem.UNSUPPORTED_MEDIA_TYPE.exception("POST /users takes application/json, like {\"name\": \"Ada\"}");
    }
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && !length.trim().matches("[0-9]{1,18}")) {
      throw Problem.BAD_REQUEST.exception("Content-Length is not a number");
    }
    if (length != null && Long.parseLong(length.trim()) > maxBodyBytes) {
      throw Problem.REQUEST_TOO_LARGE.exception(
        "The body has " + length.trim() + " bytes; a new user takes at most " + maxBodyBytes);
    }
    // RFC 9110 §10.1.1: a client waiting for 100 Continue sends nothing until it comes.
    if (request.version() == io.vertx.core.http.HttpVersion.HTTP_1_1
      && "100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT)) && !request.isEnded()) {
      ctx.put(ProblemResponder.CONTINUE_SENT, true);
      ctx.response().writeContinue();
    }
    Buffer body = Buffer.buffer();
    boolean[] refused = {false};
    request.handler(chunk -> {
      if (refused[0]) {
        return;
      }
      if (body.length() + chunk.length() > maxBodyBytes) {
        refused[0] = true;
        ctx.fail(Problem.REQUEST_TOO_LARGE.exception("The body is larger than " + maxBodyBytes + " bytes"));
        return;
      }
      body.appendBuffer(chunk);
    });
    request.exceptionHandler(err -> {
      if (!refused[0]) {
        refused[0] = true;
        ctx.fail(err);
      }
    });
    request.endHandler(v -> {
      if (!refused[0]) {
        try {
          save(ctx, body);
        } catch (ProblemException | io.avatarserver.avatar.AvatarException invalid) {
          ctx.fail(invalid);
        }
      }
    });
    request.resume();
  }

  private void save(RoutingContext ctx, Buffer body) {
    JsonObject json;
    try {
      json = body.toJsonObject();
    } catch (RuntimeException e) {
      throw Failure.INVALID_USER.exception("The body must be a JSON object in UTF-8, like {\"name\": \"Ada\"}");
    }
    Object name = json == null ? null : json.getValue("name");
    avatars.createUser(name instanceof String text ? text : null)
      .onSuccess(user -> ctx.response()
        .setStatusCode(201)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.LOCATION, "/users/" + user.id())
        .end(AvatarJson.user(user).toBuffer()))
      .onFailure(ctx::fail);
  }

  private static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    int semicolon = contentType.indexOf(';');
    String media = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
    return media.toLowerCase(Locale.ROOT).equals("application/json");
  }
}
