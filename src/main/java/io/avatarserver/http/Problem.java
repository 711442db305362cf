package io.avatarserver.http;

import io.avatarserver.avatar.Failure;

/**
 * The catalogue of every answer the server gives to a request it refuses, each with its HTTP status
 * and an RFC 9457 problem type. Nothing else produces an error status: the core fails with a domain
 * {@link Failure}, which {@link #of(Failure)} maps here, once; refusals that only HTTP knows (framing,
 * routing, headers) are {@link ProblemException}s. {@link ProblemResponder} turns either into
 * {@code application/problem+json}. Unknown failures are logged and become {@link #INTERNAL}.
 */
public enum Problem {
  BAD_REQUEST(400, "bad-request", "Bad request"),
  INVALID_ID(400, "invalid-id", "Invalid id"),
  INVALID_USER(400, "invalid-user", "Invalid user"),
  MISSING_AVATAR_PART(400, "missing-avatar-part", "Missing avatar part"),
  UNEXPECTED_PART(400, "unexpected-part", "Unexpected multipart part"),
  UNAUTHORIZED(401, "unauthorized", "Authentication required"),
  INVALID_TOKEN(401, "invalid-token", "Invalid token"),
  FORBIDDEN(403, "forbidden", "Forbidden"),
  NOT_FOUND(404, "not-found", "Not found"),
  USER_NOT_FOUND(404, "user-not-found", "User not found"),
  AVATAR_NOT_FOUND(404, "avatar-not-found", "Avatar not found"),
  METHOD_NOT_ALLOWED(405, "method-not-allowed", "Method not allowed"),
  REQUEST_TIMEOUT(408, "request-timeout", "Request too slow"),
  PAYLOAD_TOO_LARGE(413, "payload-too-large", "Avatar too large"),
  /** A request body other than an avatar (the JSON of POST /users) over its limit. */
  REQUEST_TOO_LARGE(413, "request-too-large", "Request body too large"),
  EXPECTATION_FAILED(417, "expectation-failed", "Expectation failed"),
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "Unsupported media type"),
  CONTENT_TYPE_MISMATCH(415, "content-type-mismatch", "Content does not match its declared type"),
  RANGE_NOT_SATISFIABLE(416, "range-not-satisfiable", "Range not satisfiable"),
  AVATAR_TOO_SMALL(422, "avatar-too-small", "Avatar too small"),
  INVALID_IMAGE(422, "invalid-image", "Image refused"),
  TOO_MANY_REQUESTS(429, "too-many-requests", "Too many requests"),
  HEADERS_TOO_LARGE(431, "headers-too-large", "Request header fields too large"),
  INTERNAL(500, "internal-error", "Internal server error"),
  SERVER_BUSY(503, "server-busy", "Server busy"),
  DATABASE_UNAVAILABLE(503, "database-unavailable", "Database unavailable"),
  STORAGE_UNAVAILABLE(503, "storage-unavailable", "Storage unavailable"),
  INSUFFICIENT_STORAGE(507, "insufficient-storage", "Insufficient storage");

  private static final String TYPE_PREFIX = "urn:problem:avatar-server:";

  private final int status;
  private final String slug;
  private final String title;

  Problem(int status, String slug, String title) {
    this.status = status;
    this.slug = slug;
    this.title = title;
  }

  public int status() {
    return status;
  }

  /** The problem's {@code type} member: a URN, stable across releases, that clients may switch on. */
  public String type() {
    return TYPE_PREFIX + slug;
  }

  public String title() {
    return title;
  }

  /** The answer to a domain failure: every {@link Failure} has exactly one. */
  public static Problem of(Failure failure) {
    return switch (failure) {
      case INVALID_USER -> INVALID_USER;
      case USER_NOT_FOUND -> USER_NOT_FOUND;
      case AVATAR_NOT_FOUND, AVATAR_MISSING -> AVATAR_NOT_FOUND;
      case UNAUTHORIZED -> UNAUTHORIZED;
      case INVALID_TOKEN -> INVALID_TOKEN;
      case FORBIDDEN -> FORBIDDEN;
      case AVATAR_TOO_LARGE -> PAYLOAD_TOO_LARGE;
      case AVATAR_TOO_SMALL -> AVATAR_TOO_SMALL;
      case UNSUPPORTED_TYPE -> UNSUPPORTED_MEDIA_TYPE;
      case CONTENT_TYPE_MISMATCH -> CONTENT_TYPE_MISMATCH;
      case INVALID_IMAGE -> INVALID_IMAGE;
      case BODY_TOO_SLOW -> REQUEST_TIMEOUT;
      case RATE_LIMITED -> TOO_MANY_REQUESTS;
      case BUSY -> SERVER_BUSY;
      case DATABASE_UNAVAILABLE -> DATABASE_UNAVAILABLE;
      case STORAGE_FULL -> INSUFFICIENT_STORAGE;
      case STORAGE_UNAVAILABLE -> STORAGE_UNAVAILABLE;
    };
  }

  public ProblemException exception(String detail) {
    return new ProblemException(this, detail, 0);
  }

  /** A refusal that tells the client when to try again (the Retry-After header, in seconds). */
  public ProblemException exception(String detail, long retryAfterSeconds) {
    return new ProblemException(this, detail, retryAfterSeconds);
  }
}
