package io.avatarserver.db;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.TestDatabase;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deletes racing uploads for one user, over real HTTP: once every request has answered, the user's
 * stored files are exactly the one its row names (none without a row), every acknowledged upload was
 * committed, and no version is ever acknowledged twice. The row is read with the row cache off, so
 * what {@code /info} answers is the database's row.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Races: two PUTs and a DELETE for one user at once")
class DeleteRaceTest {

  private static final int ROUNDS = 60;

  private static TestServer server;

  @BeforeAll
  static void start(Vertx vertx) {
    server = TestServer.start(vertx, new JsonObject().put("database", new JsonObject().put("cacheSeconds", 0)));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  @DisplayName("after every round the user's files are exactly its row's; 2xx means committed; versions never repeat")
  void putsRacingADelete() throws Exception {
    long user = server.createUser("racer");
    Set<Long> acknowledged = new HashSet<>();
    long highestBefore = 0;
    List<String> outcomes = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      byte[] a = Bodies.png(2048 + round, 1000L * round + 1);
      byte[] b = Bodies.png(3072 + round, 1000L * round + 2);
      CompletableFuture<HttpResponse<byte[]>> putA = sendAsync(put(user, a));
      CompletableFuture<HttpResponse<byte[]>> delete = sendAsync(delete(user));
      CompletableFuture<HttpResponse<byte[]>> putB = sendAsync(put(user, b));
      HttpResponse<byte[]> ra = putA.get(60, TimeUnit.SECONDS);
      HttpResponse<byte[]> rd = delete.get(60, TimeUnit.SECONDS);
      HttpResponse<byte[]> rb = putB.get(60, TimeUnit.SECONDS);
      String outcome = "round " + round + ": PUT a " + ra.statusCode() + ", DELETE " + rd.statusCode() + ", PUT b "
        + rb.statusCode();
      outcomes.add(outcome);

      assertTrue(ra.statusCode() == 200 || ra.statusCode() == 201, () -> outcome + " " + new String(ra.body()));
      assertTrue(rb.statusCode() == 200 || rb.statusCode() == 201, () -> outcome + " " + new String(rb.body()));
      assertTrue(rd.statusCode() == 204 || rd.statusCode() == 404, () -> outcome + " " + new String(rd.body()));

      // Every acknowledged upload has a version of its own, above every version of the rounds before.
      long versionA = TestServer.json(ra).getLong("version");
      long versionB = TestServer.json(rb).getLong("version");
      for (long version : List.of(versionA, versionB)) {
        assertTrue(version > highestBefore, () -> outcome + ": version " + version + " after " + outcomes);
        assertTrue(acknowledged.add(version), () -> outcome + ": version " + version + " acknowledged twice");
      }
      highestBefore = Math.max(versionA, versionB);

      HttpResponse<byte[]> info = server.get("/users/" + user + "/avatar/info");
      List<String> stored = storedHashes(user);
      if (info.statusCode() == 404) {
        // The DELETE came last: it answered 204, and no file of this user remains.
        assertEquals(204, rd.statusCode(), () -> outcome + ": no row, yet the DELETE did not delete one");
        assertEquals(List.of(), stored, () -> outcome + ": files without a row");
      } else {
        assertEquals(200, info.statusCode(), outcome);
        JsonObject row = TestServer.json(info);
        // The last committed upload is the row: the highest version acknowledged in this round, with its bytes.
        assertEquals(highestBefore, row.getLong("version"), outcome);
        byte[] winner = versionA > versionB ? a : b;
        assertEquals(Bodies.sha256(winner), row.getString("sha256"), outcome);
        assertEquals(List.of(row.getString("sha256")), stored, () -> outcome + ": the stored files are not the row's");
      }
    }
    assertEquals(0, server.stagedFiles().size(), "temporary files left behind");
  }

  @Test
  @DisplayName("a save whose UPDATE finds its row deleted meanwhile (by a writer that skipped the user's lock) is not acknowledged, and its file is deleted")
  void lostUpdateIsNotAcknowledged(Vertx vertx) throws Exception {
    long user = server.createUser("lost-update");
    byte[] first = Bodies.png(2048, 91);
    byte[] second = Bodies.png(2048, 92);
    assertEquals(201, server.put(user, "image/png", first).statusCode());

    // A server of the previous release deleted without the user's lock: its DELETE holds the avatar
    // row, uncommitted, while the upload reads the row, then waits to update it.
    try (OutsideTransaction outside = OutsideTransaction.open(vertx, server.database())) {
      outside.run("DELETE FROM avatars WHERE user_id = " + user);
      CompletableFuture<HttpResponse<byte[]>> upload = sendAsync(put(user, second));
      assertTrue(Eventually.await(outside::blocksAnother, blocked -> blocked, Duration.ofSeconds(30)),
        "the upload never waited on the deleted row");
      outside.commit();

      HttpResponse<byte[]> response = upload.get(60, TimeUnit.SECONDS);
      assertEquals(503, response.statusCode(), () -> "an update of no row was acknowledged: " + new String(response.body()));
    }
    assertEquals(404, server.get("/users/" + user + "/avatar/info").statusCode());
    assertFalse(storedHashes(user).contains(Bodies.sha256(second)), "the refused upload's file stayed");
  }

  private HttpRequest.Builder put(long user, byte[] png) {
    return server.as(user, "/users/" + user + "/avatar").header("Content-Type", "image/png")
      .PUT(HttpRequest.BodyPublishers.ofByteArray(png));
  }

  private HttpRequest.Builder delete(long user) {
    return server.as(user, "/users/" + user + "/avatar").DELETE();
  }

  /** Sent at once, each on a connection of its own (the client opens one per request in flight). */
  private static CompletableFuture<HttpResponse<byte[]>> sendAsync(HttpRequest.Builder request) {
    return server.client().sendAsync(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /**
   * A transaction on the test's database outside the server, held open between statements (the
   * PostgreSQL client's or H2's own JDBC connection), and whether a session waits on its locks.
   */
  private interface OutsideTransaction extends AutoCloseable {

    static OutsideTransaction open(Vertx vertx, TestDatabase database) throws Exception {
      return database.isPostgres() ? new Postgres(vertx, database.serverUrl()) : new H2(database.serverUrl());
    }

    void run(String sql) throws Exception;

    boolean blocksAnother();

    void commit() throws Exception;

    final class Postgres implements OutsideTransaction {
      private final PgConnection conn;
      /** A second connection, for the probe: the first is inside the transaction. */
      private final PgConnection probe;
      private final int pid;

      Postgres(Vertx vertx, String url) {
        conn = PgConnection.connect(vertx, PgConnectOptions.fromUri(url)).await();
        probe = PgConnection.connect(vertx, PgConnectOptions.fromUri(url)).await();
        pid = conn.query("SELECT pg_backend_pid()").execute().await().iterator().next().getInteger(0);
        conn.query("BEGIN").execute().await();
      }

      @Override
      public void run(String sql) {
        conn.query(sql).execute().await();
      }

      @Override
      public boolean blocksAnother() {
        return probe.query("SELECT count(*) FROM pg_stat_activity WHERE " + pid + " = ANY(pg_blocking_pids(pid))")
          .execute().await().iterator().next().getLong(0) > 0;
      }

      @Override
      public void commit() {
        conn.query("COMMIT").execute().await();
      }

      @Override
      public void close() {
        probe.close().await();
        conn.close().await();
      }
    }

    final class H2 implements OutsideTransaction {
      private final Connection conn;
      private final Connection probe;
      private final long session;

      H2(String url) throws SQLException {
        conn = DriverManager.getConnection(url);
        conn.setAutoCommit(false);
        probe = DriverManager.getConnection(url);
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT SESSION_ID()")) {
          rs.next();
          session = rs.getLong(1);
        }
      }

      @Override
      public void run(String sql) throws SQLException {
        try (Statement st = conn.createStatement()) {
          st.execute(sql);
        }
      }

      @Override
      public boolean blocksAnother() {
        try (Statement st = probe.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE BLOCKER_ID = " + session)) {
          rs.next();
          return rs.getLong(1) > 0;
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      }

      @Override
      public void commit() throws SQLException {
        conn.commit();
      }

      @Override
      public void close() throws SQLException {
        try (conn; probe) {
          conn.rollback();
        }
      }
    }
  }

  /** The SHA-256 of each of the user's stored files ({@code avatars/XX/<userId>-<uuid>.<ext>}). */
  private static List<String> storedHashes(long user) {
    List<String> hashes = new ArrayList<>();
    for (Path file : server.avatarFiles(user)) {
      try {
        hashes.add(Bodies.sha256(Files.readAllBytes(file)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return hashes;
  }
}
