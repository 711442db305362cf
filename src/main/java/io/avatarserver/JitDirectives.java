package io.avatarserver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Compiler directives the server installs in its own JVM at start (as {@code jcmd PID
 * Compiler.directives_add} would), so that they hold however the jar is launched.
 *
 * <p>Why: Micrometer's {@code TimeWindowMax.rotate()}, called by every timer and distribution summary
 * on each record (Vert.x's HTTP server metrics, the upload duration), takes its "time to rotate"
 * branch once every {@code expiry / bufferLength} (40 s by default) and returns at once otherwise.
 * C2 compiles the rare branch as an uncommon trap in every hot method that inlines it; each rotation
 * then deoptimizes those methods ({@code unstable_if}) and sends them back to the interpreter and C1,
 * among them Vert.x's response write ({@code Http1xServerConnection$1.write}), about 0.4 s of C2 to
 * compile again. A {@code -XX:+LogCompilation} of the bench (README, performance) showed it as the
 * commonest trap after the warm-up and behind the largest recompilations when load came back. Not
 * inlined, the trap deoptimizes {@code rotate()} alone: a small method, recompiled in milliseconds;
 * the call costs a few nanoseconds per recorded metric.
 */
final class JitDirectives {

  private static final Logger LOG = LoggerFactory.getLogger(JitDirectives.class);

  /** The directives, in the JSON-like format of {@code -XX:CompilerDirectivesFile}. */
  static final String DIRECTIVES = "[{ match: \"*.*\", inline: [\"-io/micrometer/core/instrument/distribution/TimeWindowMax.rotate\"] }]";

  private static final String DIAGNOSTIC_COMMAND = "com.sun.management:type=DiagnosticCommand";

  private JitDirectives() {
  }

  /** Adds {@link #DIRECTIVES} to this JVM's compiler; logs and goes on where the JVM has no such command. */
  static void install() {
    try {
      Path file = Files.createTempFile("avatar-jit-directives", ".json");
      try {
        Files.writeString(file, DIRECTIVES);
        String answer = String.valueOf(diagnosticCommand("compilerDirectivesAdd", file.toString()));
        LOG.debug("compiler directives: {}", answer.strip());
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException | JMException | RuntimeException e) {
      LOG.info("compiler directives not installed ({}); metrics' window rotation may deoptimize hot methods", e.toString());
    }
  }

  /** The JVM's compiler directives as {@code jcmd PID Compiler.directives_print} prints them. */
  static String print() throws JMException {
    return String.valueOf(diagnosticCommand("compilerDirectivesPrint"));
  }

  private static Object diagnosticCommand(String operation, String... arguments) throws JMException {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    return server.invoke(new ObjectName(DIAGNOSTIC_COMMAND), operation, new Object[] {arguments},
      new String[] {String[].class.getName()});
  }
}
