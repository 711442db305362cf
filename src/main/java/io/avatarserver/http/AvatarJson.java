package io.avatarserver.http;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.User;
import io.vertx.core.json.JsonObject;

/** The JSON shapes of the API. */
final class AvatarJson {

  private AvatarJson() {
  }

  static String avatarPath(long userId) {
    return "/users/" + userId + "/avatar";
  }

  /** The avatar's URL with its version: a URL whose bytes never change, so clients may cache it for good. */
  static String versionedUrl(Avatar avatar) {
    return avatarPath(avatar.userId()) + "?v=" + avatar.version();
  }

  static JsonObject info(Avatar avatar) {
    return new JsonObject()
      .put("userId", avatar.userId())
      .put("contentType", avatar.contentType())
      .put("size", avatar.size())
      .put("sha256", avatar.sha256())
      .put("width", avatar.width())
      .put("height", avatar.height())
      .put("version", avatar.version())
      .put("updatedAt", avatar.updatedAt().toString())
      .put("url", versionedUrl(avatar));
  }

  static JsonObject user(User user) {
    return new JsonObject()
      .put("id", user.id())
      .put("name", user.name())
      .put("createdAt", user.createdAt().toString())
      .put("avatarUrl", avatarPath(user.id()));
  }
}
