package io.avatarserver.error;

import io.vertx.core.VertxException;

/** A refusal the client caused or must be told about: carries its catalogue entry and a detail. */
public final class ProblemException extends VertxException {

  private final Problem problem;

  public ProblemException(Problem problem, String detail) {
    // No stack trace: these are expected outcomes on hot paths, not bugs.
    super(detail, true);
    this.problem = problem;
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
