package io.avatarserver.http;

import io.avatarserver.db.AvatarRepository;
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

  static final int MAX_NAME_LENGTH = 200;

  private final AvatarRepository repository;
  private final int maxBodyBytes;

  UserHandler(AvatarRepository repository, int maxBodyBytes) {
    this.repository = repository;
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
        } catch (ProblemException invalid) {
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
      throw Problem.INVALID_USER.exception("The body must be a JSON object in UTF-8, like {\"name\": \"Ada\"}");
    }
    String name = validName(json == null ? null : json.getValue("name"));
    repository.createUser(name)
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

  /**
   * The rules for a user's name, all in one place; returns the name to store (stripped of outer
   * white space). A name is a string of 1 to {@value #MAX_NAME_LENGTH} UTF-16 units that is not
   * blank, is well-formed UTF-16 (no lone surrogate, as a JSON escape of U+D800 alone makes),
   * and holds no character that is invisible or rearranges text: no control character (C0, DEL,
   * C1), no line or paragraph separator, no format character (bidirectional overrides, isolates and
   * marks, zero-width space, word joiner, byte-order mark, soft hyphen, tag characters…) except the
   * zero-width joiner and non-joiner that emoji sequences and several scripts need, and no Unicode
   * noncharacter. Names are shown to other people: these are how one name passes for another.
   */
  static String validName(Object raw) {
    if (!(raw instanceof String given) || given.isBlank()) {
      throw Problem.INVALID_USER.exception("'name' must be a non-blank string of at most " + MAX_NAME_LENGTH + " characters");
    }
    String name = given.strip();
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw Problem.INVALID_USER.exception("'name' is not well-formed Unicode: it holds a lone surrogate (\\u"
          + String.format("%04x", (int) c) + ")");
      }
    }
    // Counted in UTF-16 units, as H2's VARCHAR(200) counts (PostgreSQL counts code points, fewer):
    // a name that passes here fits both, and a character beyond the BMP (most emoji) counts twice.
    if (name.length() > MAX_NAME_LENGTH) {
      throw Problem.INVALID_USER.exception("'name' is longer than " + MAX_NAME_LENGTH
        + " characters (those beyond the Basic Multilingual Plane, like most emoji, count as two)");
    }
    name.codePoints().forEach(cp -> {
      if (!allowedInName(cp)) {
        throw Problem.INVALID_USER.exception("'name' may not hold U+" + String.format("%04X", cp)
          + ", a control, format or invisible character");
      }
    });
    return name;
  }

  private static boolean allowedInName(int cp) {
    if (cp == 0x200C || cp == 0x200D) {
      return true; // zero-width non-joiner and joiner: emoji sequences, Persian, Indic scripts
    }
    boolean nonCharacter = (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
    int type = Character.getType(cp);
    return !nonCharacter && type != Character.CONTROL && type != Character.FORMAT
      && type != Character.LINE_SEPARATOR && type != Character.PARAGRAPH_SEPARATOR;
  }
}
