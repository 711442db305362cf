package io.avatarserver;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.avatarserver.avatar.AvatarService;
import io.avatarserver.recovery.Sweeper;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A row whose file is gone (a disk fault, a hand-deleted file): the avatar is gone, said precisely. */
@DisplayName("A row whose stored file is missing: 404 problem, one ERROR line naming the key, a metric, reported by the sweep")
class MissingObjectTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    // With the row cache: the missing file also makes the cache read the row again before giving up.
    startServer(vertx, new JsonObject()
      .put("database", new JsonObject().put("cacheSeconds", 3600))
      .put("storage", new JsonObject().put("sweepIntervalSeconds", 0)));
  }

  @Test
  void missingFile() throws Exception {
    long user = server.createUser("lost");
    assertEquals(201, server.put(user, "image/jpeg", Bodies.fixture("images/avatar-256.jpg")).statusCode());
    Path file = server.avatarFiles(user).get(0);
    String key = server.storedKey(file);
    Files.delete(file);

    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(AvatarService.class);
    appender.start();
    logger.addAppender(appender);
    HttpResponse<byte[]> response;
    try {
      response = server.get("/users/" + user + "/avatar");
    } finally {
      logger.detachAppender(appender);
    }

    assertEquals(404, response.statusCode(), () -> new String(response.body()));
    assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(""));
    JsonObject problem = TestServer.json(response);
    assertEquals("urn:problem:avatar-server:avatar-not-found", problem.getString("type"));
    assertEquals(404, problem.getInteger("status"));
    List<ILoggingEvent> errors = appender.list.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
    assertEquals(1, errors.size(), () -> appender.list.toString());
    assertTrue(errors.get(0).getFormattedMessage().contains(key), errors.get(0).getFormattedMessage());

    String metrics = new String(server.get("/metrics").body());
    assertTrue(metrics.contains("avatar_missing_objects_total 1.0"), metrics);

    Sweeper.Report report = server.server().sweeper().sweep().await();
    assertEquals(List.of(key), report.missing());
    assertTrue(new String(server.get("/metrics").body()).contains("avatar_sweep_missing_objects 1.0"));

    // A new upload replaces the broken row; the sweep finds nothing missing any more.
    assertEquals(200, server.put(user, "image/jpeg", Bodies.fixture("images/avatar-256.jpg")).statusCode());
    assertEquals(200, server.get("/users/" + user + "/avatar").statusCode());
    assertEquals(List.of(), server.server().sweeper().sweep().await().missing());
  }
}
