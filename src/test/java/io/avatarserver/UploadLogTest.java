package io.avatarserver;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.RawHttp;
import io.avatarserver.upload.UploadSession;
import io.avatarserver.upload.UploadSink;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Upload logging: one INFO line per finished upload, DEBUG progress every 256 KiB")
class UploadLogTest extends ServerTestBase {

  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  @BeforeEach
  void capture() {
    appender.start();
    logger(UploadSession.class).addAppender(appender);
    logger(UploadSink.class).addAppender(appender);
  }

  @AfterEach
  void release() {
    logger(UploadSession.class).detachAppender(appender);
    logger(UploadSink.class).detachAppender(appender);
  }

  private static Logger logger(Class<?> type) {
    return (Logger) LoggerFactory.getLogger(type);
  }

  private List<String> lines(Level level, long user) {
    return appender.list.stream()
      .filter(e -> e.getLevel() == level && e.getFormattedMessage().contains("user=" + user + " "))
      .map(ILoggingEvent::getFormattedMessage)
      .toList();
  }

  @Test
  @DisplayName("A 1 MiB upload logs four progress lines and one outcome line with user, bytes and duration")
  void success() {
    long user = server.createUser("logged");
    assertEquals(201, server.put(user, "image/png", Bodies.png(1024 * 1024, 1)).statusCode());

    List<String> info = lines(Level.INFO, user);
    assertEquals(1, info.size(), () -> "INFO lines: " + info);
    assertTrue(info.get(0).matches("upload user=" + user + " bytes=1048576 durationMs=\\d+ outcome=created"), info.get(0));
    assertEquals(4, lines(Level.DEBUG, user).size(), () -> "DEBUG lines: " + lines(Level.DEBUG, user));
  }

  @Test
  @DisplayName("A refused upload logs its outcome")
  void refused() {
    long user = server.createUser("logged-refusal");
    assertRefused(server.put(user, "image/gif", Bodies.fixture("images/avatar-256.jpg")), 415, "content-type-mismatch");

    List<String> info = lines(Level.INFO, user);
    assertEquals(1, info.size(), () -> "INFO lines: " + info);
    assertTrue(info.get(0).endsWith("outcome=content_type_mismatch"), info.get(0));
  }

  @Test
  @DisplayName("A client that disconnects mid-body logs outcome=client_aborted at INFO, not an error")
  void clientAborted() {
    long user = server.createUser("logged-abort");
    byte[] body = Bodies.png(1024 * 1024, 9);
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/png", body.length));
      raw.write(body, 0, body.length / 2);
      // The first half has reached the pipeline before the connection goes.
      Eventually.await(() -> lines(Level.DEBUG, user).size(), n -> n > 0, Duration.ofSeconds(20));
    }
    List<String> info = Eventually.await(() -> lines(Level.INFO, user), l -> !l.isEmpty(), Duration.ofSeconds(20));
    assertEquals(1, info.size(), () -> "INFO lines: " + info);
    assertTrue(info.get(0).endsWith("outcome=client_aborted"), info.get(0));
    assertEquals(List.of(), lines(Level.WARN, user));
  }
}
