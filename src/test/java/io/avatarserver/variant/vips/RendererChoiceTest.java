package io.avatarserver.variant.vips;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.Rendered;
import io.avatarserver.variant.Renderer;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantSpec;
import io.avatarserver.variant.vips.RendererChoice.Engine;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class RendererChoiceTest {

  /** Stands for the pure-Java engine, which lives elsewhere. */
  private static final Renderer JAVA = new Renderer() {
    @Override
    public String name() {
      return "java";
    }

    @Override
    public SourceInfo probe(Path original, String mediaType) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<Rendered> render(Path original, SourceInfo info, List<VariantSpec> specs, RenderLimits limits) {
      throw new UnsupportedOperationException();
    }
  };

  private static final Supplier<Renderer> JAVA_ENGINE = () -> JAVA;

  private static final RendererChoice.VipsLoader MISSING = () -> {
    throw new VipsUnavailableException("libvips cannot be loaded (test); " + Vips.INSTALL_HINT);
  };

  @Test
  void javaIsJava() {
    assertSame(JAVA, RendererChoice.choose("java", JAVA_ENGINE));
    assertSame(JAVA, RendererChoice.choose(Engine.JAVA, JAVA_ENGINE, MISSING));
  }

  @Test
  void vipsAndAutoLoadLibvipsWhereItIsInstalled() {
    VipsSupport.vips();
    assertInstanceOf(VipsRenderer.class, RendererChoice.choose("vips", JAVA_ENGINE));
    assertEquals("vips", RendererChoice.choose(" Auto ", JAVA_ENGINE).name());
  }

  @Test
  void autoFallsBackToJavaWithoutLibvips() {
    assertSame(JAVA, RendererChoice.choose(Engine.AUTO, JAVA_ENGINE, MISSING));
  }

  @Test
  void vipsWithoutLibvipsRefusesToStartAndSaysHowToInstallIt() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
      () -> RendererChoice.choose(Engine.VIPS, JAVA_ENGINE, MISSING));
    assertTrue(e.getMessage().contains("variants.engine is vips"), e.getMessage());
    assertTrue(e.getMessage().contains("apt-get install libvips42"), e.getMessage());
  }

  @Test
  void anythingElseIsAConfigurationError() {
    for (String bad : new String[] {"", "magick", null}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RendererChoice.choose(bad, JAVA_ENGINE));
      assertTrue(e.getMessage().contains("java, vips or auto"), e.getMessage());
    }
  }
}
