package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.FailingTrigger;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("A database failure when the row is saved leaves no file and the previous avatar intact")
class DatabaseFailureTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
    if (server.database().isPostgres()) {
      // Deferred: the UPDATE succeeds and the COMMIT itself fails.
      server.database().execute(
        "CREATE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS "
          + "$$ BEGIN RAISE EXCEPTION 'injected failure at commit'; END $$",
        "CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT OR UPDATE ON avatars DEFERRABLE INITIALLY DEFERRED "
          + "FOR EACH ROW WHEN (NEW.size_bytes = " + FailingTrigger.FAILING_SIZE + ") EXECUTE FUNCTION fail_commit()");
    } else {
      server.database().execute("CREATE TRIGGER fail_commit BEFORE INSERT, UPDATE ON avatars FOR EACH ROW CALL '"
        + FailingTrigger.class.getName() + "'");
    }
  }

  @Test
  @DisplayName("Replacing: 503 problem, the new file is deleted, the old row and file are served as before")
  void replacementFails() {
    long user = server.createUser("db-failure");
    byte[] old = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/jpeg", old).statusCode());
    List<Path> before = server.avatarFiles(user);

    HttpResponse<byte[]> put = server.put(user, "image/png", Bodies.png(FailingTrigger.FAILING_SIZE, 1));

    assertRefused(put, 503, "database-unavailable");
    assertEquals("5", put.headers().firstValue("Retry-After").orElse(""));
    assertEquals(before, server.avatarFiles(user));
    assertArrayEquals(old, server.get("/users/" + user + "/avatar").body());
    assertEquals(1, TestServer.json(server.get("/users/" + user + "/avatar/info")).getLong("version"));
  }

  @Test
  @DisplayName("A first avatar: 503 problem and no file at all")
  void firstAvatarFails() {
    long user = server.createUser("db-failure-first");

    HttpResponse<byte[]> put = server.put(user, "image/png", Bodies.png(FailingTrigger.FAILING_SIZE, 2));

    assertRefused(put, 503, "database-unavailable");
    assertEquals(List.of(), server.avatarFiles(user));
    assertRefused(server.get("/users/" + user + "/avatar"), 404, "avatar-not-found");
  }

  @Test
  @DisplayName("The next upload after a failed one succeeds: the failure left no state behind")
  void recoversAfterFailure() {
    long user = server.createUser("db-failure-then-ok");
    assertRefused(server.put(user, "image/png", Bodies.png(FailingTrigger.FAILING_SIZE, 3)), 503, "database-unavailable");

    byte[] good = Bodies.png(FailingTrigger.FAILING_SIZE + 1, 3);
    assertEquals(201, server.put(user, "image/png", good).statusCode());
    assertArrayEquals(good, server.get("/users/" + user + "/avatar").body());
    assertEquals(1, server.avatarFiles(user).size());
  }
}
