package io.avatarserver.upload;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The hash stage: SHA-256 over the bytes as they are stored, that is after the parser stripped the
 * metadata, fed straight from the buffers on their way to the file (no copy).
 */
final class StoredHash {

  private final MessageDigest sha256;

  StoredHash() {
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  void update(Buffer stored) {
    sha256.update(((BufferInternal) stored).getByteBuf().nioBuffer());
  }

  /** Lower-case hex of the hash of everything updated so far; once, at the end. */
  String hex() {
    return HexFormat.of().formatHex(sha256.digest());
  }
}
