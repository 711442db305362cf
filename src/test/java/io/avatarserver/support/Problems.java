package io.avatarserver.support;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Assertions on the server's refusals: RFC 9457 {@code application/problem+json} bodies. */
public final class Problems {

  /** The prefix of every problem type the server defines. */
  public static final String TYPE_PREFIX = "urn:problem:avatar-server:";

  private Problems() {
  }

  /**
   * Asserts that {@code response} refuses with {@code status} and the problem type
   * {@code urn:problem:avatar-server:<typeSlug>}: the Content-Type is {@code application/problem+json},
   * the body's {@code status} member is the HTTP status, {@code title} and {@code detail} are non-blank
   * strings and {@code instance} is the request's path. Returns the body for further checks.
   */
  public static JsonObject assertRefused(HttpResponse<byte[]> response, int status, String typeSlug) {
    String body = new String(response.body(), StandardCharsets.UTF_8);
    Supplier<String> context = () -> response.request().method() + " " + response.uri() + " answered "
      + response.statusCode() + " " + response.headers().map() + " " + body;
    assertEquals(status, response.statusCode(), context);
    assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(""), context);
    JsonObject problem;
    try {
      problem = new JsonObject(body);
    } catch (DecodeException e) {
      return fail("not a JSON object: " + context.get(), e);
    }
    assertEquals(TYPE_PREFIX + typeSlug, problem.getValue("type"), context);
    assertEquals(status, assertInstanceOf(Integer.class, problem.getValue("status"), context), context);
    assertNotBlank(problem, "title", context);
    assertNotBlank(problem, "detail", context);
    assertEquals(response.uri().getRawPath(), problem.getValue("instance"), context);
    return problem;
  }

  private static void assertNotBlank(JsonObject problem, String member, Supplier<String> context) {
    Object value = problem.getValue(member);
    assertTrue(value instanceof String text && !text.isBlank(), () -> member + " is not a non-blank string: " + context.get());
  }
}
