package io.avatarserver.http;

import io.vertx.core.VertxException;

/** A refusal that only the HTTP edge knows about (framing, routing, headers): its catalogue entry and a detail. */
public final class ProblemException extends VertxException {

  private final Problem problem;
  private final long retryAfterSeconds;

  public ProblemException(Problem problem, String detail, long retryAfterSeconds) {
    // No stack trace: these are expected outcomes on hot paths, not bugs.
    super(detail, true);
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Seconds the client should wait before retrying; 0 when the refusal says nothing about it. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public Problem problem() {
    return problem;
  }

  public String detail() {
    return getMessage();
  }

}
