package io.avatarserver.avatar;

/**
 * The closed set of reasons a use case refuses or fails, in the domain's words. Nothing here knows
 * HTTP: the edge ({@code http.Problem}) maps each reason to a status and a problem type, once. The
 * lower-case name is also the outcome label of upload metrics and log lines.
 */
public enum Failure {
  /** A user's name or the request to create one is not acceptable. */
  INVALID_USER,
  /** No user has the id. */
  USER_NOT_FOUND,
  /** The user has no avatar (or not the one asked for). */
  AVATAR_NOT_FOUND,
  /** The user's avatar row names a stored object that is not there: the avatar is gone. */
  AVATAR_MISSING,
  /** No credentials were presented where they are needed. */
  UNAUTHORIZED,
  /** Credentials were presented but are not valid. */
  INVALID_TOKEN,
  /** Valid credentials that may not do this. */
  FORBIDDEN,
  /** The avatar is larger than the configured maximum. */
  AVATAR_TOO_LARGE,
  /** The avatar is smaller than the configured minimum. */
  AVATAR_TOO_SMALL,
  /** The declared or detected type is not one the server stores. */
  UNSUPPORTED_TYPE,
  /** The content is not of the type it was declared as. */
  CONTENT_TYPE_MISMATCH,
  /** The image is broken, inconsistent, a decompression bomb or carries trailing data. */
  INVALID_IMAGE,
  /** The body arrived slower than the configured minimum rate. */
  BODY_TOO_SLOW,
  /** The client or user made too many requests in a short time. */
  RATE_LIMITED,
  /** The server is at its configured capacity for uploads. */
  BUSY,
  /** The metadata database cannot be reached or failed. */
  DATABASE_UNAVAILABLE,
  /** The storage has no space left. */
  STORAGE_FULL,
  /** The storage (an object store) cannot be reached, is too slow or refuses to store now. */
  STORAGE_UNAVAILABLE;

  public AvatarException exception(String detail) {
    return new AvatarException(this, detail, 0);
  }

  /** A failure that tells the caller when trying again makes sense. */
  public AvatarException exception(String detail, long retryAfterSeconds) {
    return new AvatarException(this, detail, retryAfterSeconds);
  }
}
