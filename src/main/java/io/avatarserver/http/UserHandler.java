package io.avatarserver.http;

import io.avatarserver.avatar.AvatarRepository;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** {@code POST /users}: a small JSON body, read by a BodyHandler bounded to a few KiB on this route only. */
final class UserHandler {

  static final int MAX_NAME_LENGTH = 200;

  private final AvatarRepository repository;

  UserHandler(AvatarRepository repository) {
    this.repository = repository;
  }

  void create(RoutingContext ctx) {
    JsonObject json;
    try {
      json = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw Problem.INVALID_USER.exception("The body must be a JSON object like {\"name\": \"Ada\"}");
    }
    Object raw = json == null ? null : json.getValue("name");
    if (!(raw instanceof String name) || name.isBlank() || name.strip().length() > MAX_NAME_LENGTH) {
      throw Problem.INVALID_USER.exception("'name' must be a non-blank string of at most " + MAX_NAME_LENGTH + " characters");
    }
    repository.createUser(name.strip())
      .onSuccess(user -> ctx.response()
        .setStatusCode(201)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.LOCATION, "/users/" + user.id())
        .end(AvatarJson.user(user).toBuffer()))
      .onFailure(ctx::fail);
  }
}
