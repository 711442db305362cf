package io.avatarserver.avatar;

import io.vertx.core.VertxException;

/** The stored object a key names is not there (for instance, replaced and deleted a moment ago). */
public final class ObjectMissingException extends VertxException {
  public ObjectMissingException(String key) {
    super("no stored object " + key, true);
  }
}
