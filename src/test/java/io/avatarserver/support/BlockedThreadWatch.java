package io.avatarserver.support;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Nothing may block an event loop: Vert.x's blocked-thread checker logs a warning when one does, this
 * appender (wired in logback-test.xml) records it, and this extension (registered for every test
 * class through the ServiceLoader, with extension autodetection on) fails the test during which it
 * was logged.
 */
public final class BlockedThreadWatch extends AppenderBase<ILoggingEvent> implements AfterEachCallback {

  /** The checker logs as io.vertx.core.impl.BlockedThreadChecker (vertx-core 5.0), whatever its package. */
  static final String CHECKER = "BlockedThreadChecker";
  private static final ConcurrentLinkedQueue<String> WARNINGS = new ConcurrentLinkedQueue<>();

  @Override
  protected void append(ILoggingEvent event) {
    if (event.getLoggerName().endsWith(CHECKER)) {
      WARNINGS.add(event.getFormattedMessage());
    }
  }

  /** Takes the warnings recorded so far. */
  public static List<String> drain() {
    List<String> taken = new ArrayList<>();
    for (String w; (w = WARNINGS.poll()) != null; ) {
      taken.add(w);
    }
    return taken;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    List<String> warnings = drain();
    if (!warnings.isEmpty()) {
      throw new AssertionError("a Vert.x thread was blocked during " + context.getDisplayName() + ": " + warnings);
    }
  }
}
