package io.avatarserver.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/**
 * Where the signing secret comes from: the configured value (config {@code auth.jwtSecret} or
 * {@code AVATAR_JWT_SECRET}), or else the file {@code jwt-secret} in the data directory, created on
 * first use with 256 random bits and mode 0600, and reused from then on (by the server and by the
 * {@code token} command alike). Blocking file I/O: call it from a worker or the main thread.
 */
public final class JwtSecret {

  static final String FILE_NAME = "jwt-secret";
  /** HS256 wants a key of at least its hash size (RFC 7518 §3.2). */
  static final int MIN_BYTES = 32;

  private JwtSecret() {
  }

  public static byte[] resolve(String configured, Path dataDir) {
    if (configured != null && !configured.isBlank()) {
      byte[] secret = configured.getBytes(StandardCharsets.UTF_8);
      if (secret.length < MIN_BYTES) {
        throw new IllegalArgumentException("the JWT secret must have at least " + MIN_BYTES + " bytes");
      }
      return secret;
    }
    Path file = dataDir.resolve(FILE_NAME);
    try {
      Files.createDirectories(dataDir);
      if (!Files.exists(file)) {
        create(file);
      }
      byte[] secret = Files.readString(file, StandardCharsets.US_ASCII).trim().getBytes(StandardCharsets.US_ASCII);
      if (secret.length < MIN_BYTES) {
        throw new IllegalStateException(file + " holds fewer than " + MIN_BYTES + " bytes");
      }
      return secret;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create " + file, e);
    }
  }

  private static void create(Path file) throws IOException {
    Path tmp = file.resolveSibling(FILE_NAME + ".tmp-" + ProcessHandle.current().pid());
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, Tokens.newSecret(new SecureRandom()) + "\n", StandardCharsets.US_ASCII);
    try {
      // A link, not a rename: if another process created the file meanwhile, its secret wins.
      Files.createLink(file, tmp);
    } catch (FileAlreadyExistsException raced) {
      // Keep theirs.
    } finally {
      Files.delete(tmp);
    }
  }
}
