package io.avatarserver.storage;

import io.avatarserver.avatar.Failure;

/** Turns a full disk, however the JDK words it, into the domain's {@code STORAGE_FULL}. */
final class StorageFailures {

  private StorageFailures() {
  }

  static Throwable translate(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String message = t.getMessage();
      // ENOSPC and EDQUOT reach Java only as these strerror(3) texts inside an IOException.
      if (message != null && (message.contains("No space left on device") || message.contains("Disk quota exceeded"))) {
        return Failure.STORAGE_FULL.exception("The server has no space left to store this avatar");
      }
    }
    return failure;
  }
}
