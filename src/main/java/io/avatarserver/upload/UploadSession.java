package io.avatarserver.upload;

import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.avatar.SavedAvatar;
import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.upload.image.ImageType;
import io.avatarserver.avatar.Failure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.Pipe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One upload from the first byte to the committed row. The order is what makes a failure harmless:
 * bytes go to a staging object; only when all of them are durable is it published under a new key;
 * only then is the row switched to that key in one transaction; only after the commit are the
 * previous bytes deleted. A failure at any step discards what this upload wrote and nothing else,
 * so the previous avatar keeps being served.
 */
public final class UploadSession {

  private static final Logger LOG = LoggerFactory.getLogger(UploadSession.class);

  private final Vertx vertx;
  private final long userId;
  private final StagedObject staged;
  private final AvatarRepository repository;
  private final AvatarStorage storage;
  private final UploadLimits limits;
  private final long startedNanos;
  private final Runnable done;
  private final WriteBudget budget;
  private final UploadEvents events;
  private final Predicate<Throwable> clientGone;
  private UploadSink sink;

  UploadSession(Vertx vertx, long userId, StagedObject staged, AvatarRepository repository, AvatarStorage storage,
                UploadLimits limits, WriteBudget budget, UploadEvents events, Predicate<Throwable> clientGone,
                long startedNanos, Runnable done) {
    this.events = events;
    this.clientGone = clientGone;
    this.budget = budget;
    this.done = done;
    this.vertx = vertx;
    this.userId = userId;
    this.staged = staged;
    this.repository = repository;
    this.storage = storage;
    this.limits = limits;
    this.startedNanos = startedNanos;
  }

  /**
   * Pipes one body into the staging object, with backpressure, and succeeds once all of it is
   * durable. A session receives one body; the pipe must have been taken before the request's first
   * asynchronous step, and must not end its destination on failure.
   */
  public Future<Void> receive(Pipe<Buffer> body, ImageType declared) {
    if (sink != null) {
      throw new IllegalStateException("a session receives one body");
    }
    sink = new UploadSink(staged, declared, limits, userId, budget, events);
    Promise<Void> received = Promise.promise();
    long watchdog = limits.minBytesPerSecond() > 0 ? watchRate(body, received) : -1;
    body.to(sink).onComplete(ar -> {
      if (watchdog >= 0) {
        vertx.cancelTimer(watchdog);
      }
      if (ar.succeeded()) {
        received.tryComplete();
      } else {
        sink.abort(ar.cause());
        received.tryFail(ar.cause());
      }
    });
    return received.future();
  }

  /**
   * Slowloris guard: every window, the body must have advanced by minBytesPerSecond × window, or the
   * pipe is closed and the upload fails with BODY_TOO_SLOW. The idle timeout only catches a client that stops
   * entirely; this catches one that trickles a few bytes at a time.
   */
  private long watchRate(Pipe<Buffer> body, Promise<Void> received) {
    long windowMillis = limits.minRateWindowSeconds() * 1000L;
    long minPerWindow = (long) limits.minBytesPerSecond() * limits.minRateWindowSeconds();
    long[] lastSize = {0};
    return vertx.setPeriodic(windowMillis, timer -> {
      long size = sink.size();
      // A paused pipe (our disk is slow, the sink is full) is our doing, not the client's.
      if (size - lastSize[0] < minPerWindow && !sink.writeQueueFull() && !received.future().isComplete()) {
        vertx.cancelTimer(timer);
        // Fail first: closing the pipe fails it at once with a generic "Pipe closed".
        received.tryFail(Failure.BODY_TOO_SLOW.exception("The body arrived slower than "
          + limits.minBytesPerSecond() + " bytes per second"));
        body.close();
      }
      lastSize[0] = size;
    });
  }

  /**
   * Completes the upload once {@code received} (the body, fully received) succeeds: publish, commit,
   * delete the previous bytes. On any failure, discards this upload's bytes and fails with the cause.
   * Logs one INFO line with the outcome either way.
   */
  public Future<SavedAvatar> finish(Future<Void> received) {
    return received
      .compose(v -> staged.publish(sink.type().extension(), sink.sha256()))
      .compose(key -> repository.saveAvatar(userId, new NewAvatar(key, sink.type().mediaType(), sink.storedSize(), sink.sha256(),
          sink.width(), sink.height()))
        .recover(err -> storage.delete(key).transform(ignored -> Future.failedFuture(err))))
      .compose(saved -> saved.replaced() ? deletePrevious(saved) : Future.succeededFuture(saved))
      .recover(err -> staged.discard().transform(ignored -> Future.failedFuture(err)))
      .onComplete(ar -> {
        log(ar.succeeded() ? (ar.result().replaced() ? "replaced" : "created") : outcome(ar.cause()),
          ar.failed() ? ar.cause() : null);
        done.run();
      });
  }

  private Future<SavedAvatar> deletePrevious(SavedAvatar saved) {
    // The new row is committed: the old bytes are garbage now. A failure to delete them is logged and
    // left to the recovery sweep; it must not turn a committed upload into an error.
    return storage.delete(saved.previous().storageKey())
      .otherwise(err -> {
        LOG.warn("could not delete replaced avatar {}: {}", saved.previous().storageKey(), err.toString());
        return null;
      })
      .map(saved);
  }

  private String outcome(Throwable cause) {
    if (cause instanceof AvatarException problem) {
      return problem.failure().name().toLowerCase(java.util.Locale.ROOT);
    }
    if (clientGone.test(cause)) {
      return "client_aborted";
    }
    return "error";
  }

  private void log(String outcome, Throwable cause) {
    long nanos = System.nanoTime() - startedNanos;
    long millis = TimeUnit.NANOSECONDS.toMillis(nanos);
    long bytes = sink == null ? 0 : sink.size();
    events.finished(outcome, bytes, nanos);
    if (cause == null || cause instanceof AvatarException || clientGone.test(cause)) {
      LOG.info("upload user={} bytes={} durationMs={} outcome={}", userId, bytes, millis, outcome);
    } else {
      LOG.warn("upload user={} bytes={} durationMs={} outcome={}", userId, bytes, millis, outcome, cause);
    }
  }
}
