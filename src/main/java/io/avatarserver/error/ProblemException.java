package io.avatarserver.error;

import io.vertx.core.VertxException;

/** A refusal the client caused or must be told about: carries its catalogue entry and a detail. */
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

  /** True when {@code failure} is a ProblemException of the given kind. */
  public static boolean is(Throwable failure, Problem problem) {
    return failure instanceof ProblemException p && p.problem == problem;
  }
}
