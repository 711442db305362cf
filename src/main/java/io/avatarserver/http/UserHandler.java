package io.avatarserver.http;

import io.avatarserver.avatar.AvatarService;
import io.avatarserver.avatar.Failure;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /users}: a small JSON body, read by a BodyHandler bounded to a few KiB on this route
 * only; the name's rules are {@link AvatarService#createUser}'s.
 */
final class UserHandler {

  private final AvatarService avatars;

  UserHandler(AvatarService avatars) {
    this.avatars = avatars;
  }

  void create(RoutingContext ctx) {
    JsonObject json;
    try {
      json = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw Failure.INVALID_USER.exception("The body must be a JSON object like {\"name\": \"Ada\"}");
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
}
