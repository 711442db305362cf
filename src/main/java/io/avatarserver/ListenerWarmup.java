package io.avatarserver;

import io.avatarserver.auth.Tokens;
import io.avatarserver.http.HttpServerVerticle;
import io.avatarserver.upload.image.SyntheticPng;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Real uploads over loopback HTTP before the public listener opens, so that the first clients do not
 * meet a cold JIT. A private listener on {@code 127.0.0.1}, port 0, serves the same routes through the
 * same pipeline, storage and database (its own row cache, rate limits and upload slots, none of them
 * the public ones); reserved internal users are created (one per lane of {@link #CONCURRENCY}), take
 * {@code requests} PUTs of synthetic PNGs (most of them small, for the per-request code: HTTP decoding,
 * routing, the token, the staging file, its fsync and rename, the PostgreSQL save; every fourth of 1 MiB,
 * for the per-chunk code), then their avatars are deleted over HTTP and their rows deleted, and the
 * private listener is closed. Nothing remains: no row, no file, no object. Why: in the first 10 s of load
 * after a start, with the synthetic warm-up of the pipeline alone ({@code upload.Warmup}), the server
 * spent 9.1 ms of CPU per 1 MiB upload against about 3.6 in the steady state, most of the difference in
 * the JIT compiling Netty, Vert.x, the router and the PostgreSQL client; with this warm-up, 7.1 to 7.3
 * (README, performance).
 *
 * <p>A warm-up that fails is logged and the start goes on: it is an optimisation, not a promise. Its
 * users are deleted in every case; one left by a process killed meanwhile (its name is
 * {@link #RESERVED_NAME}, which the API refuses for a user, as it holds a control character) is deleted
 * by a later start's warm-up once ten minutes old (its avatar file then by the recovery sweep).
 */
final class ListenerWarmup {

  private static final Logger LOG = LoggerFactory.getLogger(ListenerWarmup.class);

  /** The reserved user's name: U+0001, a control character, makes it one that {@code POST /users} can never create. */
  static final String RESERVED_NAME = "\u0001avatar-server warm-up";
  /**
   * Requests in flight at once, and reserved users: 64, as many as a load tester's connections;
   * against 8, 0.59x nginx against 0.56x and 6.1 against 6.6 ms of CPU per upload in the first 10 s (README).
   */
  private static final int CONCURRENCY = 64;
  private static final int SMALL = 4 * 1024;
  private static final int LARGE = 1 << 20;
  /** A reserved user older than this is a killed process's leftover (a live warm-up takes seconds). */
  static final long LEFTOVER_SECONDS = 600;

  /** What the warm-up did: requests answered 2xx, all requests sent, the time it took, and when it ended. */
  record Report(int succeeded, int sent, long millis, long endedNanos) {
    static final Report NONE = new Report(0, 0, 0, 0);
  }

  /** The database operations on the reserved user that the API does not have. */
  interface ReservedUsers {
    /** Deletes the user row (its avatar and variant rows go with it). */
    Future<Void> delete(long userId);

    /** Deletes rows named {@code name} created before {@code secondsAgo}; succeeds with how many. */
    Future<Integer> deleteOlder(String name, long secondsAgo);
  }

  private ListenerWarmup() {
  }

  /**
   * Runs the warm-up; the future always succeeds (with {@link Report#NONE} when it could not run).
   *
   * @param router the private listener's router, over services that share nothing of the public
   *               listener's state but the storage, the pool and the pipeline's code
   */
  static Future<Report> run(Vertx vertx, int requests, int instances, Tokens tokens,
                            io.avatarserver.avatar.AvatarRepository repository, ReservedUsers reserved,
                            java.util.function.Function<Vertx, io.vertx.ext.web.Router> router) {
    if (requests <= 0) {
      return Future.succeededFuture(Report.NONE);
    }
    long started = System.nanoTime();
    return reserved.deleteOlder(RESERVED_NAME, LEFTOVER_SECONDS)
      .onSuccess(n -> {
        if (n > 0) {
          LOG.info("deleted {} warm-up users left by a process stopped during its warm-up", n);
        }
      })
      .compose(n -> {
        int count = (int) Math.max(1, Math.min(requests, CONCURRENCY));
        java.util.List<Future<io.avatarserver.avatar.User>> created = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
          created.add(repository.createUser(RESERVED_NAME));
        }
        // Every user that was created is deleted, whatever else failed.
        return Future.join(created).transform(ar -> {
          long[] ids = created.stream().filter(Future::succeeded).mapToLong(f -> f.result().id()).toArray();
          Future<Report> uploads = ar.succeeded() ? uploadAndDelete(vertx, instances, tokens, router, ids, requests)
            : Future.failedFuture(ar.cause());
          return uploads.eventually(() -> deleteUsers(reserved, ids));
        });
      })
      .map(r -> new Report(r.succeeded(), r.sent(), (System.nanoTime() - started) / 1_000_000, System.nanoTime()))
      .onSuccess(r -> LOG.info("warmed the listener with {} of {} uploads over loopback in {} ms", r.succeeded(),
        r.sent(), r.millis()))
      .otherwise(err -> {
        LOG.warn("the listener warm-up failed (the start goes on, with a cold JIT): {}", err.toString());
        return Report.NONE;
      });
  }

  /**
   * The private listener, {@code requests} uploads spread over the users {@code ids} (one per lane), then
   * each user's avatar deleted over HTTP; the listener closed in every case.
   */
  private static Future<Report> uploadAndDelete(Vertx vertx, int instances, Tokens tokens,
                                                java.util.function.Function<Vertx, io.vertx.ext.web.Router> router,
                                                long[] ids, int requests) {
    HttpServerOptions options = new HttpServerOptions().setHost("127.0.0.1").setPort(0)
      .setHandle100ContinueAutomatically(false).setTcpNoDelay(true).setHttp2ClearTextEnabled(false);
    java.util.List<HttpServerVerticle> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    return vertx.deployVerticle(() -> {
      HttpServerVerticle verticle = new HttpServerVerticle(options, router);
      listeners.add(verticle);
      return verticle;
    }, new DeploymentOptions().setInstances(instances))
      .compose(deployment -> {
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1")
          .setDefaultPort(listeners.get(0).actualPort()).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(CONCURRENCY));
        String[] tokenOf = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
          tokenOf[i] = tokens.mint(ids[i], false, 600);
        }
        return uploads(client, ids, tokenOf, requests)
          .compose(report -> {
            Future<Void> deleted = Future.succeededFuture();
            for (int i = 0; i < ids.length; i++) {
              int user = i;
              deleted = deleted.compose(v -> send(client, HttpMethod.DELETE, ids[user], tokenOf[user], null));
            }
            return deleted.map(report);
          })
          .eventually(client::close)
          .eventually(() -> vertx.undeploy(deployment));
      });
  }

  private static Future<Void> deleteUsers(ReservedUsers reserved, long[] ids) {
    Future<Void> chain = Future.succeededFuture();
    for (long id : ids) {
      chain = chain.eventually(() -> reserved.delete(id).onFailure(err -> LOG.warn(
        "the warm-up user {} was not deleted (a later start deletes it): {}", id, err.toString())));
    }
    return chain;
  }

  /**
   * {@code total} PUTs, {@link #CONCURRENCY} at a time, the n-th by user {@code n % ids.length}; every
   * fourth of 1 MiB, the others of 4 KiB.
   */
  private static Future<Report> uploads(HttpClient client, long[] ids, String[] tokens, int total) {
    Buffer small = Buffer.buffer(SyntheticPng.png(SMALL, 1));
    Buffer large = Buffer.buffer(SyntheticPng.png(LARGE, 2));
    AtomicInteger next = new AtomicInteger();
    AtomicInteger succeeded = new AtomicInteger();
    AtomicLong failed = new AtomicLong();
    Promise<Report> done = Promise.promise();
    AtomicInteger running = new AtomicInteger(Math.min(CONCURRENCY, total));
    Runnable[] lane = new Runnable[1];
    lane[0] = () -> {
      int n = next.getAndIncrement();
      if (n >= total) {
        if (running.decrementAndGet() == 0) {
          done.complete(new Report(succeeded.get(), total, 0, 0));
        }
        return;
      }
      int user = n % ids.length;
      send(client, HttpMethod.PUT, ids[user], tokens[user], n % 4 == 3 ? large : small).onComplete(ar -> {
        if (ar.succeeded()) {
          succeeded.incrementAndGet();
        } else if (failed.getAndIncrement() == 0) {
          LOG.debug("a warm-up upload failed: {}", ar.cause().toString());
        }
        lane[0].run();
      });
    };
    for (int i = running.get(); i > 0; i--) {
      lane[0].run();
    }
    return done.future();
  }

  /** One request on the reserved user's avatar; succeeds on 2xx, fails otherwise. */
  private static Future<Void> send(HttpClient client, HttpMethod method, long id, String token, Buffer body) {
    RequestOptions request = new RequestOptions().setMethod(method).setURI("/users/" + id + "/avatar")
      .putHeader("Authorization", "Bearer " + token);
    if (body != null) {
      request.putHeader("Content-Type", "image/png");
    }
    return client.request(request)
      .compose(req -> body == null ? req.send() : req.send(body))
      .compose(response -> response.body().compose(b -> response.statusCode() / 100 == 2 ? Future.succeededFuture()
        : Future.failedFuture(method + " answered " + response.statusCode() + ": " + b)));
  }
}
