package io.avatarserver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server keeps C2 from inlining Micrometer's window rotation into hot methods (see JitDirectives). */
class JitDirectivesTest {

  @Test
  void installsTheDirectiveInThisJvm() throws Exception {
    JitDirectives.install();

    String directives = JitDirectives.print();
    assertTrue(directives.contains("inline: -io/micrometer/core/instrument/distribution/TimeWindowMax.rotate"), directives);
  }
}
