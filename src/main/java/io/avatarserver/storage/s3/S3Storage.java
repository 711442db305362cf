package io.avatarserver.storage.s3;

import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.Failure;
import io.avatarserver.avatar.ObjectMissingException;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.avatar.StoredContent;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.storage.LocalDirectoryStorage;
import io.avatarserver.storage.LocalStagedObject;
import io.avatarserver.upload.image.ImageType;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Avatars as objects in an S3-compatible store (AWS S3, MinIO, Ceph, R2), through the SDK's async client on
 * Netty. Uploads are staged in local files as for {@link LocalDirectoryStorage} (the very same staging),
 * then stored by one PUT of the file with its length, its SHA-256 for the store to verify and
 * {@code If-None-Match: *}, so that no object is ever overwritten. Keys are
 * {@code avatars/{userId}/{uuid}.{ext}}, the object's name being {@code prefix} and the key.
 * GETs stream the object with backpressure ({@link S3Http}) or, with {@code presignSeconds},
 * answer a redirect to a presigned URL. When the store fails for reasons of its own (unreachable,
 * too slow, 5xx), it is taken as down for {@link #RETRY_AFTER_SECONDS}: uploads are refused with
 * {@code STORAGE_UNAVAILABLE} before their body is read, until that time passed or a health check
 * reached the store.
 */
public final class S3Storage implements AvatarStorage {

  private static final Logger LOG = LoggerFactory.getLogger(S3Storage.class);
  /** What a refused upload is told to wait, and how long a failing store is taken as down. */
  public static final long RETRY_AFTER_SECONDS = 5;
  /** Objects handed to the sweep at once (one page of a listing). */
  private static final int SCAN_PAGE = 500;
  /** HEAD requests in flight at once when the sweep asks which keys are absent. */
  private static final int ABSENT_BATCH = 16;
  /** Stored objects never change under their key: caches may keep them for good. */
  static final String CACHE_CONTROL = "public, max-age=31536000, immutable";

  private final Vertx vertx;
  private final S3AsyncClient client;
  private final S3Presigner presigner;
  private final EventLoopGroup eventLoops;
  private final DefaultCredentialsProvider credentials;
  private final String bucket;
  private final String prefix;
  private final Duration presign;
  private final LocalDirectoryStorage staging;
  private final PutPermits puts;
  private final S3Http http;
  /** The credentials the data path signs with, resolved on a worker (at init, then every minute). */
  private volatile AwsCredentialsIdentity signing;
  private long refreshTimer = -1;
  private volatile long downUntilNanos;

  S3Storage(Vertx vertx, S3AsyncClient client, S3Presigner presigner, EventLoopGroup eventLoops,
            DefaultCredentialsProvider credentials, ServerConfig.S3 config, LocalDirectoryStorage staging) {
    this.credentials = credentials;
    this.vertx = vertx;
    this.eventLoops = eventLoops;
    this.client = client;
    this.presigner = presigner;
    this.bucket = config.bucket();
    this.prefix = config.prefix();
    this.presign = Duration.ofSeconds(config.presignSeconds());
    this.staging = staging;
    this.puts = new PutPermits(config.maxPuts());
    this.http = new S3Http(vertx, config, this::signingCredentials);
  }

  private AwsCredentialsIdentity signingCredentials() {
    AwsCredentialsIdentity current = signing;
    if (current == null) {
      throw new IllegalStateException("no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the default chain)");
    }
    return current;
  }

  /**
   * Takes the chain's current credentials, on a worker: the chain may read files or ask an instance
   * metadata service, and refreshes expiring ones itself ahead of time; this copies what it holds.
   */
  private Future<Void> refreshCredentials() {
    return vertx.executeBlocking(() -> {
      try {
        signing = credentials.resolveCredentials();
      } catch (RuntimeException e) {
        LOG.warn("no AWS credentials found (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the default chain): {}",
          e.getMessage());
      }
      return null;
    }, false);
  }

  /** The object store of {@code config}, uploads staged in {@code tmpDir}. Credentials: the default AWS chain. */
  public static S3Storage create(Vertx vertx, ServerConfig.S3 config, Path tmpDir) {
    if (config.bucket().isEmpty()) {
      throw new io.avatarserver.config.ConfigException("storage.backend = \"s3\" needs storage.s3Bucket"
        + " (AVATAR_STORAGE_S3_BUCKET), the name of an existing bucket");
    }
    // Credentials that expire (a role's) are refreshed in the background, never on a caller's thread.
    DefaultCredentialsProvider credentials = DefaultCredentialsProvider.builder().asyncCredentialUpdateEnabled(true).build();
    // The client's own event loops (it must not run on Vert.x's), shut down by close() without the
    // default quiet period of two seconds. Native epoll where Netty has it, as for Vert.x's own
    // connections (the SDK reads every GET's bytes on these threads).
    // (The SDK knows the event loop group classes of Netty 4.1 only, deprecated in 4.2: it picks the
    // channel classes from them.)
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    DefaultThreadFactory names = new DefaultThreadFactory("avatar-s3", true);
    @SuppressWarnings("deprecation")
    EventLoopGroup eventLoops = Epoll.isAvailable() ? new io.netty.channel.epoll.EpollEventLoopGroup(threads, names)
      : new io.netty.channel.nio.NioEventLoopGroup(threads, names);
    boolean whenRequired = config.checksum().equals("when_required");
    S3AsyncClientBuilder builder = S3AsyncClient.builder()
      .region(Region.of(config.region()))
      .credentialsProvider(credentials)
      .forcePathStyle(config.pathStyle())
      .requestChecksumCalculation(whenRequired ? RequestChecksumCalculation.WHEN_REQUIRED
        : RequestChecksumCalculation.WHEN_SUPPORTED)
      // GETs are not checksummed again (WHEN_SUPPORTED would ask the store for the object's checksum
      // and compute it over every byte served): the store verified the SHA-256 of every object when it
      // was stored, and a streamed GET's checksum is known only after its last byte was sent on, when a
      // mismatch could no longer change the answer.
      .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
      .httpClientBuilder(NettyNioAsyncHttpClient.builder()
        .eventLoopGroup(SdkEventLoopGroup.create(eventLoops))
        .connectionTimeout(Duration.ofMillis(Math.min(config.attemptTimeoutMillis(), 10_000)))
        .maxConcurrency(256))
      .overrideConfiguration(o -> o
        .apiCallTimeout(Duration.ofMillis(config.apiTimeoutMillis()))
        .apiCallAttemptTimeout(Duration.ofMillis(config.attemptTimeoutMillis()))
        .retryStrategy(b -> b.maxAttempts(config.maxAttempts())));
    S3Presigner.Builder presigner = S3Presigner.builder()
      .region(Region.of(config.region()))
      .credentialsProvider(credentials)
      .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(config.pathStyle()).build());
    if (!config.endpoint().isEmpty()) {
      builder.endpointOverride(URI.create(config.endpoint()));
      presigner.endpointOverride(URI.create(config.endpoint()));
    }
    // The staging directory is all this backend keeps locally: it stands in for the avatars directory too.
    LocalDirectoryStorage staging = new LocalDirectoryStorage(vertx, tmpDir, tmpDir);
    return new S3Storage(vertx, builder.build(), presigner.build(), eventLoops, credentials, config, staging);
  }

  /**
   * Creates the staging directory and makes the client's first call, to the bucket, on a worker: that
   * one loads and initialises much of the SDK and resolves the credentials (which may read files or ask
   * an instance metadata service), none of which may happen on an event loop. Call once before use.
   */
  public Future<Void> init() {
    Context context = vertx.getOrCreateContext();
    return staging.init().compose(v -> refreshCredentials()).compose(v -> {
      refreshTimer = vertx.setPeriodic(60_000, id -> refreshCredentials());
      return vertx.executeBlocking(() -> client.headBucket(b -> b.bucket(bucket)), false);
    }).compose(head -> Future.fromCompletionStage(head, context).transform(answer -> {
      // The start waits for the store's first answer (bounded by the SDK's attempts and timeouts), so
      // that no upload is let in before the store is known: down at start, it is reported by
      // /health/ready, not a reason to refuse to start, and uploads are refused before their body
      // is read, as after any failure, until it answers.
      if (answer.failed()) {
        translate("reach at start", bucket, answer.cause());
      }
      return Future.<Void>succeededFuture();
    }));
  }

  /** Releases the client's connections and threads; on a worker, as closing waits for its event loops. */
  public Future<Void> close() {
    vertx.cancelTimer(refreshTimer);
    return http.close().transform(ignored -> vertx.executeBlocking(() -> {
      client.close();
      presigner.close();
      credentials.close();
      eventLoops.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
      return null;
    }, false));
  }

  /** The object's name in the bucket. */
  String objectName(String key) {
    return prefix + key;
  }

  @Override
  public Future<StagedObject> stage(long ownerId) {
    long until = downUntilNanos;
    if (until != 0 && System.nanoTime() - until < 0) {
      // Before the body is read: a store known to be down would refuse it after.
      return Future.failedFuture(unavailable());
    }
    return staging.stage(ownerId).map(file -> new S3StagedObject(this, (LocalStagedObject) file, ownerId));
  }

  /**
   * Stores the staged file {@code file} of {@code length} bytes under a new key: one PUT with its length,
   * its SHA-256 (which the store verifies) and {@code If-None-Match: *}. Succeeds with the key once the
   * store acknowledged.
   */
  Future<String> put(Path file, long length, long ownerId, String extension, String sha256Hex) {
    String key = "avatars/" + ownerId + "/" + UUID.randomUUID() + "." + extension;
    return putObject(key, file, length, mediaType(extension), sha256Hex).map(v -> key);
  }

  /**
   * One conditional PUT of {@code file} ({@code length} bytes) as {@code key}; never replaces an object.
   * Its SHA-256 is given (the store verifies it), and the request is signed with {@code UNSIGNED-PAYLOAD}:
   * nothing here hashes the body again. Sent by the data path ({@link S3Http}), the file piped from disk.
   */
  Future<Void> putObject(String key, Path file, long length, String contentType, String sha256Hex) {
    Context context = vertx.getOrCreateContext();
    String checksum = Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256Hex));
    Map<String, String> headers = Map.of("Content-Type", contentType, "Cache-Control", CACHE_CONTROL,
      "x-amz-checksum-sha256", checksum, "If-None-Match", "*");
    return puts.run(context, () -> http.put(objectName(key), file, length, headers))
      .recover(err -> Future.failedFuture(translate("store", key, err)));
  }

  /** PUTs to the store in flight now. */
  int putsInFlight() {
    return puts.inFlight();
  }

  /** PUTs waiting for a permit now (storage.s3MaxPuts). */
  int putsWaiting() {
    return puts.waiting();
  }

  @Override
  public Future<StoredContent> open(String key) {
    return open(key, 0, -1);
  }

  /** The whole object ({@code length} -1) or its {@code length} bytes from {@code offset}: a ranged GET. */
  @Override
  public Future<StoredContent> open(String key, long offset, long length) {
    if (!presign.isZero()) {
      // The client asks the store for its range itself.
      URI uri;
      try {
        uri = presigner.presignGetObject(p -> p.signatureDuration(presign)
          .getObjectRequest(g -> g.bucket(bucket).key(objectName(key)))).url().toURI();
      } catch (Exception e) {
        return Future.failedFuture(e);
      }
      return Future.succeededFuture(new StoredContent.Redirect(uri));
    }
    String range = length < 0 ? null : "bytes=" + offset + "-" + (offset + length - 1);
    return http.get(objectName(key), range)
      .<StoredContent>map(body -> new StoredContent.Streamed(body, range == null ? 0 : offset, body.length(), body::close))
      .recover(err -> Future.failedFuture(isNotFound(err) ? new ObjectMissingException(key) : translate("read", key, err)));
  }

  @Override
  public Future<List<String>> absent(List<String> keys) {
    // A HEAD per key, ABSENT_BATCH at a time: a page of the sweep does not flood the connection pool.
    List<String> absent = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < keys.size(); from += ABSENT_BATCH) {
      List<String> batch = keys.subList(from, Math.min(keys.size(), from + ABSENT_BATCH));
      chain = chain.compose(v -> absentOf(batch)).map(found -> {
        absent.addAll(found);
        return null;
      });
    }
    return chain.map(v -> absent);
  }

  private Future<List<String>> absentOf(List<String> keys) {
    Context context = vertx.getOrCreateContext();
    List<Future<Boolean>> checks = new ArrayList<>();
    for (String key : keys) {
      checks.add(call(context, () -> client.headObject(b -> b.bucket(bucket).key(objectName(key))))
        .map(head -> false)
        .recover(err -> isNotFound(err) ? Future.succeededFuture(true) : Future.failedFuture(translate("check", key, err))));
    }
    return Future.all(checks).map(all -> {
      List<String> absent = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        if (checks.get(i).result()) {
          absent.add(keys.get(i));
        }
      }
      return absent;
    });
  }

  @Override
  public Future<Void> delete(String key) {
    // S3 answers a DELETE of a missing key with success, as this port wants.
    return http.delete(objectName(key)).recover(err -> Future.failedFuture(translate("delete", key, err)));
  }

  @Override
  public Future<Void> checkWritable() {
    return staging.checkWritable().compose(v -> storeReachable());
  }

  /** The bucket answers; a success ends a down period at once. */
  private Future<Void> storeReachable() {
    Context context = vertx.getOrCreateContext();
    return call(context, () -> client.headBucket(b -> b.bucket(bucket)))
      .<Void>mapEmpty()
      .onSuccess(v -> {
        if (downUntilNanos != 0) {
          LOG.info("object store reachable again");
        }
        downUntilNanos = 0;
      })
      .recover(err -> {
        translate("reach", bucket, err);
        return Future.failedFuture("object store: " + describe(unwrap(err)));
      });
  }

  /** Free space where uploads are staged: the only local disk this backend writes. */
  @Override
  public Future<Long> freeSpace() {
    return staging.freeSpace();
  }

  @Override
  public Future<Removed> removeStagedBefore(Instant cutoff) {
    return staging.removeStagedBefore(cutoff);
  }

  @Override
  public Future<Removed> removeAllStaged() {
    return staging.removeAllStaged();
  }

  @Override
  public Future<Void> scanStoredBefore(Instant cutoff, Function<List<StoredObject>, Future<Void>> page) {
    Promise<Void> done = Promise.promise();
    scanPage(cutoff, page, null, done);
    return done.future();
  }

  /**
   * One page of the listing (at most {@link #SCAN_PAGE} keys, below S3's 1,000), then, once the sweep
   * is done with it, the next: each page starts afresh from its continuation token, so neither a
   * listing nor a chain of futures outlives its page and memory stays bounded by one page, whatever
   * the bucket holds.
   */
  private void scanPage(Instant cutoff, Function<List<StoredObject>, Future<Void>> page, String token,
                        Promise<Void> done) {
    Context context = vertx.getOrCreateContext();
    call(context, () -> client.listObjectsV2(b -> b.bucket(bucket).prefix(objectName("avatars/"))
      .maxKeys(SCAN_PAGE).continuationToken(token)))
      .recover(err -> Future.failedFuture(translate("list", prefix, err)))
      .compose(listing -> {
        List<StoredObject> objects = new ArrayList<>();
        for (S3Object object : listing.contents()) {
          if (object.lastModified() != null && object.lastModified().isBefore(cutoff)) {
            objects.add(new StoredObject(object.key().substring(prefix.length()), object.size()));
          }
        }
        String next = Boolean.TRUE.equals(listing.isTruncated()) ? listing.nextContinuationToken() : null;
        Future<Void> visited = objects.isEmpty() ? Future.succeededFuture() : page.apply(objects);
        return visited.map(v -> next);
      })
      .onComplete(ar -> {
        if (ar.failed()) {
          done.fail(ar.cause());
        } else if (ar.result() == null) {
          done.complete();
        } else {
          scanPage(cutoff, page, ar.result(), done);
        }
      });
  }

  /** A call to the client, its completion brought back to {@code context}. */
  private static <T> Future<T> call(Context context, java.util.function.Supplier<CompletableFuture<T>> request) {
    CompletionStage<T> stage;
    try {
      stage = request.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return Future.fromCompletionStage(stage, context);
  }

  /**
   * A failure of the store in the domain's words: {@code STORAGE_UNAVAILABLE}, with a Retry-After. A store
   * that failed for reasons of its own (unreachable, too slow, 5xx, refused credentials) is taken as
   * down for {@link #RETRY_AFTER_SECONDS}.
   */
  private Throwable translate(String what, String key, Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof ObjectMissingException || cause instanceof io.avatarserver.avatar.AvatarException) {
      return cause;
    }
    // The SDK's calls fail with its exceptions, the data path's with S3Http.StoreException; status 0: no answer.
    int status = cause instanceof S3Exception s3 ? s3.statusCode() : cause instanceof S3Http.StoreException e ? e.status : 0;
    boolean fromStore = cause instanceof SdkException || cause instanceof S3Http.StoreException;
    if (fromStore && (status == 0 || status >= 500 || status == 403)) {
      if (downUntilNanos == 0) {
        LOG.warn("object store failed ({} {}): {}; uploads refused for {} s", what, key, describe(cause),
          RETRY_AFTER_SECONDS);
      }
      downUntilNanos = System.nanoTime() + Duration.ofSeconds(RETRY_AFTER_SECONDS).toNanos();
    } else {
      LOG.warn("object store refused to {} {}: {}", what, key, describe(cause));
    }
    return unavailable();
  }

  private static io.avatarserver.avatar.AvatarException unavailable() {
    return Failure.STORAGE_UNAVAILABLE.exception("The object store is unavailable now; try again later",
      RETRY_AFTER_SECONDS);
  }

  private static boolean isNotFound(Throwable failure) {
    Throwable cause = unwrap(failure);
    return cause instanceof NoSuchKeyException || cause instanceof S3Exception s3 && s3.statusCode() == 404
      || cause instanceof S3Http.StoreException e && e.status == 404;
  }

  static Throwable unwrap(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** A failure in one line, never with credentials (the SDK's messages carry none). */
  private static String describe(Throwable failure) {
    if (failure instanceof S3Exception s3) {
      return s3.statusCode() + " " + (s3.awsErrorDetails() != null ? s3.awsErrorDetails().errorCode() : "");
    }
    if (failure instanceof S3Http.StoreException) {
      return failure.getMessage();
    }
    if (failure instanceof SdkClientException) {
      String message = failure.getMessage();
      return message == null ? failure.getClass().getSimpleName() : message.lines().findFirst().orElse(message);
    }
    return failure.toString();
  }

  private static String mediaType(String extension) {
    for (ImageType type : ImageType.values()) {
      if (type.extension().equals(extension)) {
        return type.mediaType();
      }
    }
    return "application/octet-stream";
  }
}
