package io.avatarserver.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * What a browser sees: the upload page ({@code GET /}, its script and style under {@code /page/}),
 * the OpenAPI document ({@code /openapi.json}) and Swagger UI for it ({@code /docs}, served from the
 * {@code org.webjars:swagger-ui} jar). Every file comes from the jar; nothing from a CDN. Each gets a
 * Content-Security-Policy that allows only its own scripts and styles, and no framing.
 */
final class PageRoutes {

  static final String PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  /** Swagger UI sets style attributes from its script, hence 'unsafe-inline' for styles (not scripts). */
  static final String DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    + "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  private static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion();

  private PageRoutes() {
  }

  static void mount(Router router, boolean page) {
    StaticHandler webroot = StaticHandler.create("webroot").setMaxAgeSeconds(300).setIndexPage("index.html");
    if (page) {
      router.get("/").handler(csp(PAGE_CSP)).handler(webroot);
      router.get("/page/*").handler(csp(PAGE_CSP)).handler(webroot);
    }
    router.get("/openapi.json").handler(ctx -> ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
      .sendFile("openapi/openapi.json"));
    router.get("/docs").handler(csp(DOCS_CSP)).handler(ctx -> ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
      .sendFile("webroot/docs.html"));
    router.get("/docs/init.js").handler(csp(DOCS_CSP)).handler(ctx -> ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, "text/javascript; charset=utf-8")
      .sendFile("webroot/docs.js"));
    router.get("/docs/*").handler(csp(DOCS_CSP)).handler(StaticHandler.create(SWAGGER_UI).setMaxAgeSeconds(86_400));
  }

  private static io.vertx.core.Handler<RoutingContext> csp(String policy) {
    return ctx -> {
      ctx.response().putHeader("Content-Security-Policy", policy).putHeader("Referrer-Policy", "no-referrer");
      ctx.next();
    };
  }

  /** The webjar's version, from its Maven metadata: the pom names it once. */
  private static String swaggerUiVersion() {
    try (InputStream in = PageRoutes.class.getClassLoader()
      .getResourceAsStream("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
      if (in == null) {
        throw new IllegalStateException("the swagger-ui webjar is not on the classpath");
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
