package io.avatarserver.upload;

import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.Failure;
import io.avatarserver.avatar.AvatarStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.function.Predicate;

/**
 * The upload pipeline's entry point (behind {@code AvatarService#beginUpload}). {@link #begin} runs while the request body is still paused:
 * it checks that the user exists and opens a staging object, so that a refusal costs neither a
 * byte read nor a file written.
 */
public final class AvatarUploads {

  private final Vertx vertx;
  private final AvatarRepository repository;
  private final AvatarStorage storage;
  private final UploadLimits limits;
  private final WriteBudget budget;
  private final UploadEvents events;
  private final Predicate<Throwable> clientGone;
  /** Sessions begun and not yet finished (cleanup included); graceful shutdown waits for zero. */
  private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param clientGone whether a failure of the body means the client went away (the transport knows
   *                   what that looks like; the pipeline only logs and counts it as such)
   */
  public AvatarUploads(Vertx vertx, AvatarRepository repository, AvatarStorage storage, UploadLimits limits,
                       WriteBudget budget, UploadEvents events, Predicate<Throwable> clientGone) {
    this.events = events;
    this.clientGone = clientGone;
    this.budget = budget;
    this.vertx = vertx;
    this.repository = repository;
    this.storage = storage;
    this.limits = limits;
  }

  public UploadLimits limits() {
    return limits;
  }

  /**
   * Starts one upload for {@code userId}. Fails with {@code AvatarException(USER_NOT_FOUND)} when
   * there is no such user, and with the storage's failure when no staging object can be opened.
   */
  public Future<UploadSession> begin(long userId) {
    long started = System.nanoTime();
    return repository.findUser(userId)
      .compose(user -> user == null
        ? Future.failedFuture(Failure.USER_NOT_FOUND.exception("No user has id " + userId))
        : storage.stage(userId))
      .map(staged -> {
        active.incrementAndGet();
        return new UploadSession(vertx, userId, staged, repository, storage, limits, budget, events, clientGone,
          started, active::decrementAndGet);
      });
  }

  /** The bytes of coalescing buffers the uploads share. */
  public WriteBudget budget() {
    return budget;
  }

  /** Uploads in progress, from an opened staging object to the end of their commit or cleanup. */
  public int active() {
    return active.get();
  }
}
