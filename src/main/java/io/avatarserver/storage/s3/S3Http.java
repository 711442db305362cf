package io.avatarserver.storage.s3;

import io.avatarserver.config.ServerConfig;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.streams.ReadStream;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The data path to the object store: GETs and PUTs of objects as requests signed (AWS Signature V4) here and
 * sent by a Vert.x HTTP client, on the event loop of the request that needs them. A GET's body is the
 * response itself, streamed on with Vert.x's own backpressure; a PUT's body is the staged file, piped from
 * an {@link AsyncFile}. No thread hand-off, no copy of the bytes and no reactive-streams adapter stand
 * between the store's connection and the client's, which is where the SDK's async client spent most of a
 * GET (its own event loops, a publisher per body, a copy per chunk), and where its per-call pipeline
 * (endpoint rules, interceptors) cost more than a small object's bytes. DELETEs, one per replaced avatar,
 * go this way too. The SDK still makes the calls off the upload and read paths (bucket checks, listings,
 * the sweep's HEADs) and signs: {@link AwsV4HttpSigner}.
 *
 * <p>Each call is tried up to {@code s3MaxAttempts} times within {@code s3ApiTimeoutMillis}, when it
 * failed for the store's reasons (no connection, a reset, no answer within {@code s3AttemptTimeoutMillis},
 * a 5xx) and before any byte of a GET's body was handed on; a 4xx is the answer. A GET's body that stops
 * arriving while its reader wants more fails the stream after {@code s3AttemptTimeoutMillis}; a reader that
 * does not read (backpressure) is waited for.
 */
final class S3Http {

  /**
   * A call the store did not answer as asked: its status and, when the store said it, its error code; or
   * status 0 and what failed when no answer came (no connection, a reset, a timeout).
   */
  static final class StoreException extends RuntimeException {
    final int status;

    StoreException(int status, String detail) {
      super(status == 0 ? detail : status + (detail.isEmpty() ? "" : " " + detail), null, false, false);
      this.status = status;
    }
  }

  /** Bytes of a GET's body past which a batch is handed on (one write to the client; one piece over at most). */
  static final int BATCH_BYTES = 64 * 1024;
  /** The most chunks in one such buffer (Netty's composite would copy them together past its maximum). */
  private static final int BATCH_COMPONENTS = 16;
  /** Bytes of an error answer's body read for its code; the rest is not read. */
  private static final int ERROR_BODY_BYTES = 4096;

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
  private final Supplier<AwsCredentialsIdentity> credentials;
  private final String region;
  private final boolean ssl;
  private final String host;
  private final int port;
  private final String basePath;
  private final int maxAttempts;
  private final long apiTimeoutMillis;
  private final long attemptTimeoutMillis;

  S3Http(Vertx vertx, ServerConfig.S3 config, Supplier<AwsCredentialsIdentity> credentials) {
    this.vertx = vertx;
    this.credentials = credentials;
    this.region = config.region();
    URI endpoint = URI.create(config.endpoint().isEmpty()
      ? "https://s3." + config.region() + ".amazonaws.com" : config.endpoint());
    this.ssl = "https".equalsIgnoreCase(endpoint.getScheme());
    this.port = endpoint.getPort() != -1 ? endpoint.getPort() : ssl ? 443 : 80;
    String path = endpoint.getRawPath() == null ? "" : endpoint.getRawPath().replaceAll("/+$", "");
    // Path style: endpoint/bucket/key; virtual-hosted: bucket.endpoint/key (as the SDK addresses them).
    this.host = config.pathStyle() ? endpoint.getHost() : config.bucket() + "." + endpoint.getHost();
    this.basePath = config.pathStyle() ? path + "/" + SdkHttpUtils.urlEncode(config.bucket()) : path;
    this.maxAttempts = config.maxAttempts();
    this.apiTimeoutMillis = config.apiTimeoutMillis();
    this.attemptTimeoutMillis = config.attemptTimeoutMillis();
    this.client = vertx.createHttpClient(new HttpClientOptions()
        .setConnectTimeout((int) Math.min(attemptTimeoutMillis, 10_000))
        .setKeepAlive(true)
        // Below the 20 s after which S3 closes an idle connection: a request never races its close.
        .setKeepAliveTimeout(15)
        .setTcpNoDelay(true)
        .setDecompressionSupported(false)
        .setVerifyHost(true),
      new PoolOptions().setHttp1MaxSize(256));
  }

  Future<Void> close() {
    return client.close();
  }

  /**
   * A GET of {@code objectName}, whole ({@code range} null) or of the byte range {@code range}
   * ({@code bytes=a-b}): the store's 200 or 206 response, paused, its body not yet read. A 404 fails with
   * a {@link StoreException} of status 404.
   */
  Future<Body> get(String objectName, String range) {
    return retried(() -> {
      SdkHttpRequest.Builder request = request(SdkHttpMethod.GET, objectName);
      if (range != null) {
        request.putHeader("Range", range);
      }
      return send(request, null).compose(response -> {
        if (response.statusCode() == 200 || response.statusCode() == 206) {
          return Future.succeededFuture(new Body(response));
        }
        return refusal(response);
      });
    });
  }

  /**
   * One PUT of {@code length} bytes of {@code file} as {@code objectName}, with {@code headers} (the
   * checksum, the type, the conditions); succeeds when the store acknowledged (2xx).
   */
  Future<Void> put(String objectName, Path file, long length, Map<String, String> headers) {
    return retried(() -> {
      SdkHttpRequest.Builder request = request(SdkHttpMethod.PUT, objectName)
        .putHeader("Content-Length", Long.toString(length));
      headers.forEach(request::putHeader);
      return vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true).setWrite(false))
        .compose(body -> {
          // 64 KiB reads (the default is 8 KiB): fewer reads, each a task of the file's thread pool.
          body.setReadBufferSize(64 * 1024);
          return send(request, body).eventually(body::close);
        })
        .compose(S3Http::acknowledged);
    });
  }

  /** A DELETE of {@code objectName}; succeeds when the store answered 2xx (S3 does so for a missing key too). */
  Future<Void> delete(String objectName) {
    return retried(() -> send(request(SdkHttpMethod.DELETE, objectName), null).compose(S3Http::acknowledged));
  }

  /** A 2xx answer, its (empty) body read; anything else as a failure. */
  private static Future<Void> acknowledged(HttpClientResponse response) {
    if (response.statusCode() / 100 != 2) {
      return refusal(response);
    }
    response.resume();
    return response.end();
  }

  private SdkHttpRequest.Builder request(SdkHttpMethod method, String objectName) {
    return SdkHttpRequest.builder().method(method).protocol(ssl ? "https" : "http").host(host).port(port)
      .encodedPath(basePath + "/" + SdkHttpUtils.urlEncodeIgnoreSlashes(objectName));
  }

  /**
   * Signs {@code unsigned} and sends it, with {@code body} (its length in the headers) or none; the response,
   * paused, once its head arrived within the attempt's time, else the request reset and failed.
   */
  private Future<HttpClientResponse> send(SdkHttpRequest.Builder unsigned, ReadStream<Buffer> body) {
    SdkHttpRequest signed = signer.sign(r -> r.identity(credentials.get())
      .request(unsigned.build())
      .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
      .putProperty(AwsV4HttpSigner.REGION_NAME, region)
      .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false)
      .putProperty(AwsV4FamilyHttpSigner.DOUBLE_URL_ENCODE, false)
      .putProperty(AwsV4FamilyHttpSigner.NORMALIZE_PATH, false)).request();
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.valueOf(signed.method().name()))
      .setHost(host).setPort(port).setSsl(ssl).setURI(signed.encodedPath());
    return client.request(options).recover(S3Http::unanswered).compose(request -> {
      // The Host the signature covers (the signer writes the port only when it is not the scheme's).
      request.authority(HostAndPort.create(host, port == (ssl ? 443 : 80) ? -1 : port));
      MultiMap out = request.headers();
      for (Map.Entry<String, List<String>> header : signed.headers().entrySet()) {
        if (!header.getKey().equalsIgnoreCase("Host")) {
          out.add(header.getKey(), header.getValue());
        }
      }
      long timer = vertx.setTimer(attemptTimeoutMillis, id ->
        request.reset(0, new TimeoutException("no answer from the object store within " + attemptTimeoutMillis + " ms")));
      Future<HttpClientResponse> answered = body == null ? request.send() : request.send(body);
      return answered.recover(S3Http::unanswered).andThen(ar -> {
        if (body == null || ar.failed()) {
          vertx.cancelTimer(timer);
        } else {
          // A PUT's attempt lasts until its answer's end.
          ar.result().end().onComplete(end -> vertx.cancelTimer(timer));
        }
      }).map(response -> response.pause());
    });
  }

  /** A call that got no answer, as the store's failure (status 0). */
  private static <T> Future<T> unanswered(Throwable failure) {
    return Future.failedFuture(failure instanceof StoreException ? failure
      : new StoreException(0, failure.getMessage() == null ? failure.toString() : failure.getMessage()));
  }

  /** The store's refusal as a failure carrying its status and error code (from at most 4 KiB of its body). */
  private static <T> Future<T> refusal(HttpClientResponse response) {
    int status = response.statusCode();
    Promise<T> failed = Promise.promise();
    Buffer text = Buffer.buffer();
    Handler<Void> done = v -> {
      String code = "";
      String xml = text.toString();
      int from = xml.indexOf("<Code>");
      int to = xml.indexOf("</Code>");
      if (from >= 0 && to > from) {
        code = xml.substring(from + 6, to);
      }
      failed.tryFail(new StoreException(status, code));
    };
    response.handler(chunk -> {
      if (text.length() < ERROR_BODY_BYTES) {
        text.appendBuffer(chunk, 0, Math.min(chunk.length(), ERROR_BODY_BYTES - text.length()));
      }
    });
    response.endHandler(done);
    response.exceptionHandler(err -> done.handle(null));
    response.resume();
    return failed.future();
  }

  /** {@code call}, tried again after a failure of the store's making while tries and time are left. */
  private <T> Future<T> retried(Supplier<Future<T>> call) {
    Promise<T> result = Promise.promise();
    attempt(vertx.getOrCreateContext(), System.nanoTime() + apiTimeoutMillis * 1_000_000L, 1, result, call);
    return result.future();
  }

  /** Runs {@code call}, again after a failure of the store's making while tries and time are left. */
  private <T> void attempt(Context context, long deadline, int attempt, Promise<T> result, Supplier<Future<T>> call) {
    Future<T> tried;
    try {
      tried = call.get();
    } catch (RuntimeException e) {
      tried = Future.failedFuture(e);
    }
    tried.onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(ar.result());
        return;
      }
      // Full jitter over an exponential base of 50 ms (the SDK's standard strategy is alike).
      long backoff = ThreadLocalRandom.current().nextLong(1, Math.min(1000, 50L << attempt) + 1);
      if (attempt >= maxAttempts || !retryable(ar.cause())
        || System.nanoTime() + backoff * 1_000_000L - deadline >= 0) {
        result.fail(ar.cause());
        return;
      }
      vertx.setTimer(backoff, id -> context.runOnContext(v -> attempt(context, deadline, attempt + 1, result, call)));
    });
  }

  /** A failure a new try may not meet: no connection, a reset, no answer in time, a 5xx, a throttle. */
  static boolean retryable(Throwable failure) {
    if (failure instanceof StoreException answer) {
      return answer.status >= 500 || answer.status == 429;
    }
    return true;
  }

  /**
   * A GET's response body as a stream that fails when its bytes stop arriving while it is read
   * (not while paused: a slow reader is waited for), and whose {@link #close()} before its end resets
   * the store's connection rather than read the rest.
   */
  final class Body implements ReadStream<Buffer> {
    private final HttpClientResponse response;
    private final Context context;
    private final long length;
    private Handler<Buffer> handler;
    private CompositeByteBuf batch;
    private boolean batchScheduled;
    /** Chunks the reader asked for and did not get yet (Long.MAX_VALUE: flowing); 0: paused. */
    private long demand;
    private boolean ended;
    private long lastActivity = System.nanoTime();
    private long timer = -1;
    private Handler<Throwable> exceptionHandler;
    private Handler<Void> endHandler;

    Body(HttpClientResponse response) {
      this.response = response;
      this.context = vertx.getOrCreateContext();
      String contentLength = response.getHeader("Content-Length");
      this.length = contentLength == null ? -1 : Long.parseLong(contentLength.trim());
      response.endHandler(v -> {
        // The end comes only while the reader reads (the response is paused with it): the batch first.
        deliverBatch();
        ended = true;
        stopWatch();
        Handler<Void> handler = endHandler;
        if (handler != null) {
          handler.handle(null);
        }
      });
      response.exceptionHandler(err -> {
        ended = true;
        stopWatch();
        Handler<Throwable> handler = exceptionHandler;
        if (handler != null) {
          handler.handle(err);
        }
      });
    }

    /** The body's length (its Content-Length), or -1. */
    long length() {
      return length;
    }

    /** Resets the store's request if its body did not end; the connection is not reused. */
    void close() {
      stopWatch();
      if (!ended) {
        ended = true;
        response.request().reset();
      }
    }

    private void watch() {
      if (timer == -1 && !ended) {
        lastActivity = System.nanoTime();
        timer = vertx.setTimer(attemptTimeoutMillis, this::check);
      }
    }

    private void check(long id) {
      timer = -1;
      if (ended || demand == 0) {
        return;
      }
      long idle = (System.nanoTime() - lastActivity) / 1_000_000L;
      if (idle >= attemptTimeoutMillis) {
        response.request().reset(0, new TimeoutException("the object store sent nothing for " + idle + " ms"));
      } else {
        timer = vertx.setTimer(attemptTimeoutMillis - idle, this::check);
      }
    }

    private void stopWatch() {
      if (timer != -1) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }

    @Override
    public Body exceptionHandler(Handler<Throwable> handler) {
      exceptionHandler = handler;
      return this;
    }

    @Override
    public Body handler(Handler<Buffer> handler) {
      this.handler = handler;
      if (handler == null) {
        response.handler(null);
      } else {
        response.handler(this::chunk);
      }
      return this;
    }

    /**
     * A chunk of the body (Vert.x's HTTP client splits it in pieces of at most 8 KiB, each its own heap
     * copy). While the reader reads on (a pipe), the chunks of one read from the socket are handed on as
     * one buffer (a composite, no copy), at the end of the event loop's turn or at
     * {@link #BATCH_BYTES}: one write and one flush to the client for them, not one per 8 KiB. Fetched
     * one at a time, each is handed on as it is.
     */
    private void chunk(Buffer chunk) {
      lastActivity = System.nanoTime();
      if (demand != Long.MAX_VALUE) {
        deliverBatch();
        if (demand > 0) {
          demand--;
        }
        handler.handle(chunk);
        return;
      }
      if (batch == null) {
        batch = Unpooled.compositeBuffer(BATCH_COMPONENTS);
      }
      batch.addComponent(true, ((BufferInternal) chunk).getByteBuf());
      if (batch.readableBytes() >= BATCH_BYTES || batch.numComponents() >= BATCH_COMPONENTS) {
        deliverBatch();
      } else if (!batchScheduled) {
        batchScheduled = true;
        context.runOnContext(v -> {
          batchScheduled = false;
          deliverBatch();
        });
      }
    }

    /** Hands on the chunks batched so far, unless the reader paused meanwhile (then at its resume). */
    private void deliverBatch() {
      CompositeByteBuf ready = batch;
      Handler<Buffer> reader = handler;
      if (ready == null || demand == 0 || reader == null) {
        return;
      }
      batch = null;
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      reader.handle(BufferInternal.buffer(ready));
    }

    @Override
    public Body pause() {
      demand = 0;
      response.pause();
      return this;
    }

    @Override
    public Body resume() {
      demand = Long.MAX_VALUE;
      lastActivity = System.nanoTime();
      watch();
      deliverBatch();
      if (demand == 0) {
        // The reader paused again on the batch.
        return this;
      }
      response.resume();
      return this;
    }

    @Override
    public Body fetch(long amount) {
      if (amount > 0) {
        demand = demand + amount < 0 ? Long.MAX_VALUE : demand + amount;
        lastActivity = System.nanoTime();
        watch();
        deliverBatch();
      }
      response.fetch(amount);
      return this;
    }

    @Override
    public Body endHandler(Handler<Void> handler) {
      endHandler = handler;
      return this;
    }
  }
}
