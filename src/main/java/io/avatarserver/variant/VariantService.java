package io.avatarserver.variant;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.StoredContent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sized variants, rendered lazily and once. The first request for a variant renders it on the
 * {@link RenderPool} (never on an event loop) from a scratch copy of the original, stores it through
 * the storage port as an upload is stored (stage, write, end, publish) and records it in the
 * {@code variants} table; later requests find the row (remembered here, a row never changes) and are
 * served the stored object like the original.
 *
 * <p>Once. Concurrent first requests for one variant in this instance share one render (an in-flight
 * future per {@link VariantKey}); across instances the unique row decides: the instance whose insert
 * loses deletes its object and serves the winner's.
 *
 * <p>Bounded. A render is admitted before any of its work starts; when the pool and its queue are
 * full the caller gets {@link RenderQueueFullException} at once and serves a fallback ({@link #nearest}
 * or the original). An original whose header says it has more than {@code maxSourcePixels} pixels is
 * not rendered ({@link SourceTooLargeException}).
 */
public final class VariantService {

  private static final Logger LOG = LoggerFactory.getLogger(VariantService.class);
  /** Variant rows remembered at most; beyond, an arbitrary one makes room. */
  private static final int MAX_KNOWN = 10_000;

  private final Vertx vertx;
  private final AvatarStorage storage;
  private final VariantRepository repository;
  private final Renderer renderer;
  private final RenderPool pool;
  private final RenderLimits limits;
  private final List<Integer> sizes;
  private final Path scratchDir;
  private final Map<VariantKey, StoredVariant> known = new ConcurrentHashMap<>();
  private final Map<VariantKey, Future<StoredVariant>> inFlight = new ConcurrentHashMap<>();
  private final AtomicLong renders = new AtomicLong();
  private final Map<BatchKey, Batch> waiting = new ConcurrentHashMap<>();
  /**
   * Variants whose render failed (the engine cannot read the original, or it is beyond the limits), with
   * the time until which they are not tried again: a broken original costs one render attempt a minute,
   * not one per request.
   */
  private final Map<VariantKey, Failed> failed = new ConcurrentHashMap<>();
  /** How long a failed render is not tried again: as long as the fallback answer may be cached. */
  private static final long RETRY_FAILED_NANOS = 60_000_000_000L;

  private record Failed(Throwable cause, long untilNanos) {
  }

  /**
   * @param sizes      the configured sizes, ascending
   * @param scratchDir where an original is copied for the engine to read (the staging directory: what a
   *                   crash leaves there is removed at the next start)
   */
  public VariantService(Vertx vertx, AvatarStorage storage, VariantRepository repository, Renderer renderer,
                        RenderPool pool, RenderLimits limits, List<Integer> sizes, Path scratchDir) {
    this.vertx = vertx;
    this.storage = storage;
    this.repository = repository;
    this.renderer = renderer;
    this.pool = pool;
    this.limits = limits;
    this.sizes = List.copyOf(sizes);
    this.scratchDir = scratchDir;
  }

  /** Sizes waiting in batches for a render worker (each batch's leader included). */
  public int batched() {
    int n = 0;
    for (Batch batch : waiting.values()) {
      n += batch.size();
    }
    return n;
  }

  /** Renders run so far (successful or not); for tests and benches. */
  public long renders() {
    return renders.get();
  }

  /**
   * The size served for a request of {@code requested} pixels: the smallest configured size at least
   * {@code requested} (the largest when none is), then no larger than the original's short side: the
   * largest configured size that fits it, or the short side itself when even the smallest does not.
   * Null when the row does not know the original's dimensions (stored before the server read them).
   */
  public Integer size(Avatar avatar, int requested) {
    if (avatar.width() == null || avatar.height() == null) {
      return null;
    }
    return cap(snap(requested), Math.min(avatar.width(), avatar.height()));
  }

  /** The configured size a request of {@code requested} pixels snaps to, whatever the original. */
  public int snap(int requested) {
    for (int s : sizes) {
      if (s >= requested) {
        return s;
      }
    }
    return sizes.get(sizes.size() - 1);
  }

  /**
   * Opens a stored variant's bytes; the caller sends or closes them. When its object is gone, the row is
   * forgotten and deleted (the next request renders the variant again) and this fails with the storage's
   * {@code ObjectMissingException}.
   */
  public Future<StoredContent> open(StoredVariant variant) {
    return storage.open(variant.storageKey()).onFailure(err -> {
      if (err instanceof io.avatarserver.avatar.ObjectMissingException) {
        LOG.warn("variant {} of user {} names stored object {}, which does not exist: its row is dropped, the next"
          + " request renders it again", variant.key().spec(), variant.key().userId(), variant.storageKey());
        forget(variant.key());
        repository.delete(variant).onFailure(e -> LOG.warn("could not drop the row of missing variant {}: {}",
          variant.storageKey(), e.toString()));
      }
    });
  }

  private int cap(int wanted, int shortSide) {
    if (wanted <= shortSide) {
      return wanted;
    }
    int fit = -1;
    for (int s : sizes) {
      if (s <= shortSide) {
        fit = s;
      }
    }
    return fit == -1 ? shortSide : fit;
  }

  /** Every size a request can be served at for this avatar, ascending (what the info lists). */
  public List<Integer> sizes(Avatar avatar) {
    if (avatar.width() == null || avatar.height() == null) {
      return List.of();
    }
    int shortSide = Math.min(avatar.width(), avatar.height());
    return sizes.stream().map(s -> cap(s, shortSide)).distinct().sorted().toList();
  }

  /**
   * The strong validator of a variant, known before it is rendered: the key names one stored variant
   * forever (the unique row), so one set of bytes.
   */
  public static String etag(Avatar avatar, VariantKey key) {
    return "\"" + avatar.sha256().substring(0, Math.min(16, avatar.sha256().length())) + "-" + key.version() + "-"
      + key.size() + (key.firstFrameOnly() ? "s" : "") + "." + key.format().extension() + "\"";
  }

  /**
   * The stored variant {@code key} of {@code avatar} (the user's current row), rendered and stored
   * first if it is not yet. Completes on the caller's context. Fails with
   * {@link RenderQueueFullException}, {@link SourceTooLargeException}, {@link RenderException} (the engine
   * cannot render the original), or the repository's or storage's failure.
   */
  public Future<StoredVariant> stored(Avatar avatar, VariantKey key) {
    StoredVariant remembered = known.get(key);
    if (remembered != null) {
      return Future.succeededFuture(remembered);
    }
    Failed failure = failed.get(key);
    if (failure != null) {
      if (System.nanoTime() - failure.untilNanos() < 0) {
        return Future.failedFuture(failure.cause());
      }
      failed.remove(key, failure);
    }
    Promise<StoredVariant> mine = Promise.promise();
    Future<StoredVariant> shared = inFlight.putIfAbsent(key, mine.future());
    if (shared != null) {
      return onCallersContext(shared);
    }
    repository.find(key)
      .compose(found -> found != null ? Future.succeededFuture(found) : render(avatar, key))
      .onComplete(ar -> {
        if (ar.succeeded()) {
          remember(ar.result());
        } else if (ar.cause() instanceof RenderException || ar.cause() instanceof SourceTooLargeException) {
          if (failed.size() >= MAX_KNOWN) {
            failed.clear();
          }
          failed.put(key, new Failed(ar.cause(), System.nanoTime() + RETRY_FAILED_NANOS));
        }
        inFlight.remove(key, mine.future());
        mine.handle(ar);
      });
    return onCallersContext(mine.future());
  }

  /** Forgets a remembered row whose object turned out to be gone. */
  public void forget(VariantKey key) {
    known.remove(key);
  }

  /**
   * For a fallback: the stored variant of the same version, format and frames nearest to {@code key}'s
   * size (the smallest larger one, else the largest smaller one), or null when there is none.
   */
  public Future<StoredVariant> nearest(VariantKey key) {
    return repository.list(key.userId(), key.version()).map(all -> {
      List<StoredVariant> same = all.stream()
        .filter(v -> v.key().format() == key.format() && v.key().firstFrameOnly() == key.firstFrameOnly())
        .sorted(Comparator.comparingInt(v -> v.key().size()))
        .toList();
      for (StoredVariant v : same) {
        if (v.key().size() >= key.size()) {
          return v;
        }
      }
      return same.isEmpty() ? null : same.get(same.size() - 1);
    });
  }

  /**
   * After a replacement or deletion committed: deletes the rows of the user's variants of versions
   * below {@code version}, then their objects. A failure is logged and left to the recovery sweep, which
   * counts a variant as referenced only while its version is the avatar's current one.
   */
  public Future<Void> dropBelow(long userId, long version) {
    if (!known.isEmpty()) {
      known.keySet().removeIf(k -> k.userId() == userId && k.version() < version);
    }
    return repository.deleteBelow(userId, version)
      .compose(keys -> Future.join(keys.stream().map(key -> storage.delete(key).otherwise(err -> {
        LOG.warn("could not delete variant {} of a replaced avatar: {}", key, err.toString());
        return null;
      })).toList()))
      .<Void>mapEmpty()
      .otherwise(err -> {
        LOG.warn("could not drop the variants of user {} below version {}: {}", userId, version, err.toString());
        return null;
      });
  }

  private void remember(StoredVariant variant) {
    if (known.size() >= MAX_KNOWN) {
      var it = known.keySet().iterator();
      if (it.hasNext()) {
        it.next();
        it.remove();
      }
    }
    known.put(variant.key(), variant);
  }

  /**
   * Renders {@code key} in a batch of its source: the first size of a source (user, version, format,
   * frames) to need a render takes a place in the pool and leads a batch; sizes of the same source asked
   * for while the batch waits for a worker (a page showing one avatar at three sizes) join it without
   * taking a place, and the engine renders them all from one decode. The worker takes the batch as it
   * starts: later sizes lead a batch of their own.
   */
  private Future<StoredVariant> render(Avatar avatar, VariantKey key) {
    BatchKey source = new BatchKey(key.userId(), key.version(), key.format(), key.firstFrameOnly());
    @SuppressWarnings("unchecked")
    Promise<Rendered>[] ride = new Promise[1];
    Batch[] led = new Batch[1];
    waiting.compute(source, (k, batch) -> {
      if (batch != null) {
        ride[0] = batch.sizes.computeIfAbsent(key.size(), s -> Promise.promise());
        batch.size = batch.sizes.size();
        return batch;
      }
      if (!pool.tryAcquire()) {
        return null;
      }
      led[0] = new Batch();
      ride[0] = Promise.promise();
      led[0].sizes.put(key.size(), ride[0]);
      led[0].size = 1;
      return led[0];
    });
    if (ride[0] == null) {
      return Future.failedFuture(new RenderQueueFullException());
    }
    if (led[0] != null) {
      lead(avatar, source, led[0]);
    }
    return ride[0].future().compose(rendered -> store(key, rendered));
  }

  private void lead(Avatar avatar, BatchKey source, Batch batch) {
    renders.incrementAndGet();
    long started = System.nanoTime();
    storage.open(avatar.storageKey())
      .compose(content -> scratchCopy(content)
        .compose(copy -> pool.execute(() -> {
          // From here on the batch is closed: what asks later leads a batch of its own.
          waiting.remove(source, batch);
          List<Integer> sizes = batch.sizes.keySet().stream().sorted(Comparator.reverseOrder()).toList();
          return renderBlocking(copy, avatar, sizes.stream()
            .map(size -> new VariantSpec(size, source.format(), source.firstFrameOnly())).toList());
        })))
      .onComplete(ar -> {
        pool.release();
        waiting.remove(source, batch);
        if (ar.failed()) {
          batch.sizes.values().forEach(p -> p.tryFail(ar.cause()));
          return;
        }
        LOG.debug("rendered {} px {} of user {} v{} in {} ms", batch.sizes.keySet(), source.format(), source.userId(),
          source.version(), (System.nanoTime() - started) / 1_000_000);
        batch.sizes.forEach((size, promise) -> {
          Rendered rendered = ar.result().stream().filter(r -> r.spec().size() == size).findFirst().orElse(null);
          if (rendered == null) {
            promise.tryFail(new RenderException("the engine rendered no " + size + " px " + source.format()));
          } else {
            promise.tryComplete(rendered);
          }
        });
      });
  }

  /** What one decode serves: the sizes of one avatar version in one format and frame choice. */
  private record BatchKey(long userId, long version, VariantFormat format, boolean firstFrameOnly) {
  }

  /** The sizes waiting for one render; changed only inside {@code waiting.compute} until the worker takes it. */
  private static final class Batch {
    final Map<Integer, Promise<Rendered>> sizes = new java.util.LinkedHashMap<>();
    /** Read without the map's lock, by a gauge: a count that may be a moment old. */
    private volatile int size;

    int size() {
      return size;
    }
  }

  /**
   * Where the engine reads the original: a scratch copy, so an object store's stream and a local file
   * are alike. A local file is copied on the worker (the content is closed there); a stream is piped to
   * the scratch file with backpressure.
   */
  private Future<Scratch> scratchCopy(StoredContent content) {
    Path copy = scratchDir.resolve("render-" + UUID.randomUUID() + ".src");
    if (content instanceof StoredContent.LocalFile file) {
      return Future.succeededFuture(new Scratch(copy, file));
    }
    StoredContent.Streamed streamed = (StoredContent.Streamed) content;
    return vertx.fileSystem().open(copy.toString(), new OpenOptions().setWrite(true).setCreateNew(true))
      .compose(out -> streamed.stream().pipeTo(out))
      .onComplete(ar -> content.close())
      .map(v -> new Scratch(copy, null))
      .recover(err -> vertx.fileSystem().delete(copy.toString()).transform(x -> Future.failedFuture(err)));
  }

  /** A scratch path, and the local file to copy there first (null when the bytes are there already). */
  private record Scratch(Path path, StoredContent.LocalFile from) {
  }

  private List<Rendered> renderBlocking(Scratch scratch, Avatar avatar, List<VariantSpec> specs) throws Exception {
    try {
      if (scratch.from() != null) {
        try (FileChannel out = FileChannel.open(scratch.path(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          long done = 0;
          long length = scratch.from().length();
          while (done < length) {
            long n = scratch.from().channel().transferTo(done, length - done, out);
            if (n <= 0) {
              throw new IOException("the original ended after " + done + " of " + length + " bytes");
            }
            done += n;
          }
        } finally {
          scratch.from().close();
        }
      }
      SourceInfo info = renderer.probe(scratch.path(), avatar.contentType());
      if (info.pixels() > limits.maxSourcePixels()) {
        throw new SourceTooLargeException("the original has " + info.pixels() + " pixels, more than "
          + limits.maxSourcePixels());
      }
      return renderer.render(scratch.path(), info, specs, limits);
    } finally {
      Files.deleteIfExists(scratch.path());
    }
  }

  /** Stores a rendered variant as an upload is stored, then records it; the unique row decides. */
  private Future<StoredVariant> store(VariantKey key, Rendered rendered) {
    byte[] bytes = rendered.bytes();
    return storage.stage(key.userId())
      .compose(staged -> staged.write(Buffer.buffer(bytes))
        .compose(v -> staged.end())
        .compose(v -> staged.sha256())
        .compose(sha -> staged.publish(key.format().extension())
          .map(storageKey -> new StoredVariant(key, storageKey, bytes.length, sha)))
        .recover(err -> staged.discard().transform(x -> Future.failedFuture(err))))
      .compose(mine -> repository.insert(mine)
        .recover(err -> storage.delete(mine.storageKey()).transform(x -> Future.failedFuture(err)))
        .compose(inserted -> inserted
          ? Future.succeededFuture(mine)
          : storage.delete(mine.storageKey()).transform(x -> repository.find(key)).compose(winner -> winner != null
            ? Future.succeededFuture(winner)
            : Future.failedFuture(new IllegalStateException("variant " + key + " lost its insert, yet has no row")))));
  }

  /** Completes on the context of the caller (the shared render completes on whichever context ran it). */
  private static <T> Future<T> onCallersContext(Future<T> future) {
    Context context = Vertx.currentContext();
    if (context == null || future.isComplete()) {
      return future;
    }
    Promise<T> here = Promise.promise();
    future.onComplete(ar -> {
      if (Vertx.currentContext() == context) {
        here.handle(ar);
      } else {
        context.runOnContext(v -> here.handle(ar));
      }
    });
    return here.future();
  }
}
