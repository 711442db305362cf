package io.avatarserver;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.openapi.contract.OpenAPIVersion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("GET /openapi.json: a valid OpenAPI 3.1 document that matches the router, both ways")
class OpenApiContractTest extends ServerTestBase {

  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "head", "patch", "options");

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  private static JsonObject document() {
    HttpResponse<byte[]> response = server.get("/openapi.json");
    assertEquals(200, response.statusCode());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
    return new JsonObject(new String(response.body()));
  }

  @Test
  @DisplayName("It is valid OpenAPI 3.1 (checked against the specification's JSON schema), and every $ref resolves")
  void valid(Vertx vertx) {
    JsonObject document = document();
    assertEquals("3.1.0", document.getString("openapi"));
    OpenAPIVersion version = OpenAPIVersion.fromContract(document);
    assertEquals(OpenAPIVersion.V3_1, version);
    SchemaRepository repository = version.getRepository(vertx, "app:///").await();
    OutputUnit result = version.validateContract(vertx, repository, document).await();
    assertTrue(Boolean.TRUE.equals(result.getValid()), () -> String.valueOf(result.getErrors()));
    java.util.regex.Matcher refs = java.util.regex.Pattern.compile("\"\\$ref\":\"#/([^\"]+)\"").matcher(document.encode());
    int count = 0;
    while (refs.find()) {
      Object target = document;
      for (String step : refs.group(1).split("/")) {
        target = target instanceof JsonObject o ? o.getValue(step.replace("~1", "/").replace("~0", "~")) : null;
      }
      assertTrue(target instanceof JsonObject, "unresolved reference #/" + refs.group(1));
      count++;
    }
    assertTrue(count > 20);

    // The check has teeth: a broken copy is refused.
    JsonObject broken = document.copy();
    broken.getJsonObject("paths").getJsonObject("/health").put("get", "not an operation");
    assertFalse(Boolean.TRUE.equals(version.validateContract(vertx, repository, broken).await().getValid()));
  }

  @Test
  @DisplayName("Every route is documented and every documented operation is routed")
  void matchesRouter() {
    Set<String> documented = new TreeSet<>();
    JsonObject paths = document().getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String key : paths.getJsonObject(path).fieldNames()) {
        if (METHODS.contains(key)) {
          documented.add(key.toUpperCase() + " " + path);
        }
      }
    }
    Set<String> routed = new TreeSet<>();
    for (String route : server.server().routes()) {
      // "/users/:id/avatar" is "/users/{id}/avatar"; a prefix route "/page/*" serves "/page/{asset}".
      routed.add(route.replaceAll(":(\\w+)", "{$1}").replaceAll("/\\*$", "/{asset}"));
    }
    assertEquals(routed, documented);
  }

  @Test
  @DisplayName("Every status a route documents for errors is a problem+json response")
  void errorsAreProblems() {
    JsonObject document = document();
    JsonObject responses = document.getJsonObject("components").getJsonObject("responses");
    for (String name : responses.fieldNames()) {
      JsonObject content = responses.getJsonObject(name).getJsonObject("content");
      if (!name.equals("AvatarInfo")) {
        assertTrue(content.containsKey("application/problem+json"), name);
      }
    }
  }
}
