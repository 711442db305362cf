package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.Problems;
import io.avatarserver.support.TestServer;
import io.avatarserver.variant.ImageIoTestRenderer;
import io.avatarserver.variant.VariantFormat;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Sized variants: ?size=N, formats, validators, rendered once, versioned URLs, cleanup")
class VariantServingTest extends ServerTestBase {

  private static final ImageIoTestRenderer RENDERER = new ImageIoTestRenderer();

  @BeforeAll
  static void start(Vertx vertx) {
    // No sweep but the ones a test runs; a grace of 0 so that a test's sweep considers every file.
    server = TestServer.start(vertx, new JsonObject().put("storage", new JsonObject().put("sweepGraceSeconds", 0)
      .put("sweepIntervalSeconds", 0)), RENDERER);
  }

  private long userWith(String fixture, String type) {
    return userWith(Bodies.fixture(fixture), type);
  }

  private long userWith(byte[] body, String type) {
    long user = server.createUser("variants");
    assertEquals(201, server.put(user, type, body).statusCode());
    return user;
  }

  private HttpResponse<byte[]> get(String path, String... headers) {
    HttpRequest.Builder request = server.request(path);
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return server.send(request);
  }

  private static String header(HttpResponse<?> response, String name) {
    return response.headers().firstValue(name).orElse("");
  }

  private static int side(HttpResponse<byte[]> response) throws Exception {
    int[] d = ImageIoTestRenderer.dimensions(response.body());
    assertEquals(d[0], d[1], "a square");
    return d[0];
  }

  @Test
  @DisplayName("size snaps to the smallest listed size at least as large, never above the original; s is its alias")
  void sizeSnapping() throws Exception {
    long user = userWith("images/avatar-256.jpg", "image/jpeg");
    String path = "/users/" + user + "/avatar";
    for (int[] asked : new int[][] {{64, 64}, {50, 64}, {1, 16}, {129, 160}, {256, 256}, {300, 256}, {65535, 256}}) {
      HttpResponse<byte[]> response = get(path + "?size=" + asked[0]);
      assertEquals(200, response.statusCode(), "size=" + asked[0]);
      assertEquals("image/jpeg", header(response, "Content-Type"));
      assertEquals(asked[1], side(response), "size=" + asked[0]);
    }
    assertEquals(128, side(get(path + "?s=100")));

    long png = userWith("images/avatar-200.png", "image/png");
    // 256 and 320 exceed the 200-pixel original: the largest listed size that fits it.
    assertEquals(160, side(get("/users/" + png + "/avatar?size=320")));

    // Smaller than the smallest listed size: its own short side.
    long tiny = userWith(noisePng(12, 10), "image/png");
    HttpResponse<byte[]> small = get("/users/" + tiny + "/avatar?size=64");
    assertEquals(200, small.statusCode());
    assertEquals(10, side(small));
  }

  @Test
  @DisplayName("a malformed size, format, static or d is a 400 problem, never a 500")
  void malformed() {
    long user = userWith("images/avatar-256.jpg", "image/jpeg");
    String path = "/users/" + user + "/avatar";
    for (String query : List.of("size=abc", "size=-1", "size=0", "size=", "size=99999999999", "size=65536", "s=1e3",
      "size=%2B64", "size=64&format=bmp", "size=64&format=", "size=64&static=maybe", "d=wavatar", "size=64&format=gif")) {
      Problems.assertRefused(get(path + "?" + query), 400, "bad-request");
    }
    int before = RENDERER.renders.get();
    Problems.assertRefused(get("/users/" + user + "/avatar?size=64&format=tiff"), 400, "bad-request");
    assertEquals(before, RENDERER.renders.get(), "nothing rendered for a refused request");
  }

  @Test
  @DisplayName("WebP when Accept lists it (Vary: Accept), the original's format otherwise, an explicit format without Vary")
  void formats() {
    long user = userWith("images/avatar-256.jpg", "image/jpeg");
    String path = "/users/" + user + "/avatar?size=64";

    HttpResponse<byte[]> webp = get(path, "Accept", "image/avif,image/webp,*/*;q=0.8");
    assertEquals("image/webp", header(webp, "Content-Type"));
    assertEquals("Accept", header(webp, "Vary"));

    HttpResponse<byte[]> refused = get(path, "Accept", "image/webp;q=0, */*");
    assertEquals("image/jpeg", header(refused, "Content-Type"));
    assertEquals("Accept", header(refused, "Vary"));

    HttpResponse<byte[]> plain = get(path);
    assertEquals("image/jpeg", header(plain, "Content-Type"));
    assertEquals("Accept", header(plain, "Vary"));

    HttpResponse<byte[]> png = get(path + "&format=png", "Accept", "image/webp");
    assertEquals("image/png", header(png, "Content-Type"));
    assertEquals("", header(png, "Vary"), "an explicit format does not vary");
    assertTrue(png.body().length > 8 && png.body()[1] == 'P' && png.body()[2] == 'N' && png.body()[3] == 'G');

    assertEquals("image/jpeg", header(get(path + "&format=jpg"), "Content-Type"));
    assertEquals("image/webp", header(get(path + "&format=webp"), "Content-Type"));
  }

  @Test
  @DisplayName("each variant has its own ETag, a matching If-None-Match is a 304 (with Vary), and no render")
  void validators() {
    byte[] body = Bodies.fixture("images/avatar-256.jpg");
    long user = userWith(body, "image/jpeg");
    String path = "/users/" + user + "/avatar";

    HttpResponse<byte[]> jpeg64 = get(path + "?size=64");
    String etag = header(jpeg64, "ETag");
    assertTrue(etag.startsWith("\"") && etag.endsWith("\""), etag);
    assertEquals("public, max-age=300", header(jpeg64, "Cache-Control"));
    assertFalse(header(jpeg64, "Last-Modified").isEmpty());
    assertEquals("nosniff", header(jpeg64, "X-Content-Type-Options"));
    assertEquals("default-src 'none'; sandbox", header(jpeg64, "Content-Security-Policy"));
    assertEquals("inline; filename=\"avatar-" + user + "-64.jpeg\"", header(jpeg64, "Content-Disposition"));

    Set<String> tags = new HashSet<>(List.of(etag, "\"" + Bodies.sha256(body) + "\"",
      header(get(path + "?size=128"), "ETag"), header(get(path + "?size=64", "Accept", "image/webp"), "ETag"),
      header(get(path + "?size=64&format=png"), "ETag")));
    assertEquals(5, tags.size(), "distinct validators: " + tags);

    int before = RENDERER.renders.get();
    HttpResponse<byte[]> notModified = get(path + "?size=64", "If-None-Match", etag);
    assertEquals(304, notModified.statusCode());
    assertEquals(etag, header(notModified, "ETag"));
    assertEquals("Accept", header(notModified, "Vary"));
    assertEquals(0, notModified.body().length);
    // Not yet rendered in PNG at 96: a 304 needs no render either.
    HttpResponse<byte[]> unrendered = get(path + "?size=96&format=png");
    assertEquals(304, get(path + "?size=96&format=png", "If-None-Match", header(unrendered, "ETag")).statusCode());
    assertEquals(before + 1, RENDERER.renders.get());

    assertEquals(200, get(path + "?size=64", "If-None-Match", header(get(path + "?size=128"), "ETag")).statusCode());
  }

  @Test
  @DisplayName("200 concurrent first requests render a variant once, on a render worker; later ones are served from storage")
  void renderedOnce() throws Exception {
    long user = userWith("images/large-1200.jpg", "image/jpeg");
    String path = "/users/" + user + "/avatar?size=256";
    int before = RENDERER.renders.get();

    List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      all.add(server.client().sendAsync(server.request(path).build(), HttpResponse.BodyHandlers.ofByteArray()));
    }
    byte[] first = null;
    for (CompletableFuture<HttpResponse<byte[]>> f : all) {
      HttpResponse<byte[]> response = f.get();
      assertEquals(200, response.statusCode());
      assertEquals("public, max-age=300", header(response, "Cache-Control"), "the variant itself, no fallback");
      if (first == null) {
        first = response.body();
      }
      assertArrayEquals(first, response.body());
    }
    assertEquals(before + 1, RENDERER.renders.get(), "one render for 200 requests");
    assertTrue(RENDERER.threads.stream().allMatch(t -> t.startsWith("avatar-render")), RENDERER.threads.toString());

    assertEquals(2, server.avatarFiles(user).size(), "the original and one variant");
    assertEquals(1, server.queryLong("SELECT COUNT(*) FROM variants WHERE user_id = " + user));
    HttpResponse<byte[]> again = get(path);
    assertArrayEquals(first, again.body());
    assertEquals(String.valueOf(first.length), header(again, "Content-Length"));
    assertEquals(before + 1, RENDERER.renders.get(), "served from storage, not rendered again");
    String metrics = new String(get("/metrics").body());
    assertTrue(metrics.contains("avatar_variant_renders_total"), "the render counter is exported");

    HttpResponse<byte[]> head = server.send(server.request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, head.statusCode());
    assertEquals(String.valueOf(first.length), header(head, "Content-Length"));
  }

  @Test
  @DisplayName("the info lists versioned variant URLs, served immutable without Vary; an older version's are gone (404)")
  void versionedUrls() throws Exception {
    long user = userWith("images/avatar-200.png", "image/png");
    JsonObject info = TestServer.json(get("/users/" + user + "/avatar/info"));
    JsonObject urls = info.getJsonObject("variants");
    assertEquals(List.of("16", "32", "48", "64", "80", "96", "128", "160"), new ArrayList<>(urls.fieldNames()));
    assertEquals("/avatars/" + user + "/1/64.png", urls.getString("64"));

    HttpResponse<byte[]> v64 = get(urls.getString("64"));
    assertEquals(200, v64.statusCode());
    assertEquals("image/png", header(v64, "Content-Type"));
    assertEquals("public, max-age=31536000, immutable", header(v64, "Cache-Control"));
    assertEquals("", header(v64, "Vary"));
    assertEquals(64, side(v64));
    assertEquals("image/webp", header(get("/avatars/" + user + "/1/64.webp"), "Content-Type"));
    assertEquals("image/jpeg", header(get("/avatars/" + user + "/1/64.jpeg"), "Content-Type"));
    // The same variant as the plain URL's, with the same validator.
    assertEquals(header(get("/users/" + user + "/avatar?size=64"), "ETag"), header(v64, "ETag"));

    Problems.assertRefused(get("/avatars/" + user + "/1/100.png"), 404, "avatar-not-found");
    Problems.assertRefused(get("/avatars/" + user + "/1/256.png"), 404, "avatar-not-found");
    Problems.assertRefused(get("/avatars/" + user + "/1/64.bmp"), 404, "avatar-not-found");
    Problems.assertRefused(get("/avatars/" + user + "/1/64.gif"), 404, "avatar-not-found");
    Problems.assertRefused(get("/avatars/" + user + "/1/64"), 404, "avatar-not-found");
    Problems.assertRefused(get("/avatars/" + user + "/2/64.png"), 404, "avatar-not-found");
    Problems.assertRefused(get("/avatars/" + user + "/x/64.png"), 400, "invalid-id");

    assertEquals(200, server.put(user, "image/jpeg", Bodies.fixture("images/avatar-256.jpg")).statusCode());
    Problems.assertRefused(get("/avatars/" + user + "/1/64.png"), 404, "avatar-not-found");
    HttpResponse<byte[]> current = get("/avatars/" + user + "/2/64.jpeg");
    assertEquals(200, current.statusCode());
    assertEquals("public, max-age=31536000, immutable", header(current, "Cache-Control"));
  }

  @Test
  @DisplayName("replacing or deleting an avatar deletes its variants' files and rows")
  void variantsGoWithTheirAvatar() {
    long user = userWith("images/avatar-256.jpg", "image/jpeg");
    String path = "/users/" + user + "/avatar";
    for (String q : List.of("?size=32", "?size=64", "?size=64&format=png")) {
      assertEquals(200, get(path + q).statusCode());
    }
    assertEquals(4, server.avatarFiles(user).size());
    assertEquals(3, variantRows(user));

    assertEquals(200, server.put(user, "image/png", Bodies.fixture("images/avatar-200.png")).statusCode());
    assertEquals(1, server.avatarFiles(user).size(), "only the new original: " + server.avatarFiles(user));
    assertEquals(0, variantRows(user));

    HttpResponse<byte[]> fresh = get(path + "?size=64");
    assertEquals("image/png", header(fresh, "Content-Type"));
    assertEquals(2, server.avatarFiles(user).size());

    assertEquals(204, server.send(server.as(user, path).DELETE()).statusCode());
    assertEquals(List.of(), server.avatarFiles(user));
    assertEquals(0, variantRows(user));
  }

  private long variantRows(long user) {
    return server.queryLong("SELECT COUNT(*) FROM variants WHERE user_id = " + user);
  }

  @Test
  @DisplayName("the recovery sweep keeps the current version's variants")
  void sweepKeepsVariants() throws Exception {
    long user = userWith("images/avatar-256.jpg", "image/jpeg");
    assertEquals(200, get("/users/" + user + "/avatar?size=48").statusCode());
    List<Path> files = server.avatarFiles(user);
    assertEquals(2, files.size());
    // Older than any grace: only the rows can keep them.
    for (Path file : files) {
      java.nio.file.Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(
        java.time.Instant.now().minus(java.time.Duration.ofDays(1))));
    }
    server.server().sweeper().sweep().toCompletionStage().toCompletableFuture().get();
    assertEquals(files, server.avatarFiles(user));
    assertEquals(200, get("/users/" + user + "/avatar?size=48").statusCode());
  }

  @Test
  @DisplayName("the sweep removes a variant whose row names a version that is no longer current (its cleanup was lost)")
  void sweepRemovesOrphanedVariants() throws Exception {
    long user = userWith("images/avatar-256.jpg", "image/jpeg");
    assertEquals(200, get("/users/" + user + "/avatar?size=80").statusCode());
    List<Path> files = server.avatarFiles(user);
    assertEquals(2, files.size());
    // As if the avatar had been replaced and the variants' cleanup had not run: the row names an older version.
    server.database().execute("UPDATE variants SET version = 0 WHERE user_id = " + user);
    for (Path file : files) {
      java.nio.file.Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(
        java.time.Instant.now().minus(java.time.Duration.ofDays(1))));
    }
    server.server().sweeper().sweep().toCompletionStage().toCompletableFuture().get();
    List<Path> left = server.avatarFiles(user);
    assertEquals(1, left.size(), "only the original: " + left);
    assertArrayEquals(Bodies.fixture("images/avatar-256.jpg"), java.nio.file.Files.readAllBytes(left.get(0)));
  }

  @Test
  @DisplayName("a variant whose file is gone: the original (max-age=60) this time, rendered again the next")
  void missingVariantFile() throws Exception {
    byte[] body = Bodies.fixture("images/avatar-256.jpg");
    long user = userWith(body, "image/jpeg");
    String path = "/users/" + user + "/avatar?size=112";
    HttpResponse<byte[]> rendered = get(path);
    assertEquals("public, max-age=300", header(rendered, "Cache-Control"));
    for (Path file : server.avatarFiles(user)) {
      if (!java.util.Arrays.equals(body, java.nio.file.Files.readAllBytes(file))) {
        java.nio.file.Files.delete(file);
      }
    }
    int renders = RENDERER.renders.get();

    HttpResponse<byte[]> fallback = get(path);
    assertEquals(200, fallback.statusCode());
    assertEquals("public, max-age=60", header(fallback, "Cache-Control"));
    assertArrayEquals(body, fallback.body());

    HttpResponse<byte[]> again = Eventually.await(() -> get(path),
      r -> "public, max-age=300".equals(header(r, "Cache-Control")), java.time.Duration.ofSeconds(10));
    assertArrayEquals(rendered.body(), again.body());
    assertEquals(renders + 1, RENDERER.renders.get());
    assertEquals(2, server.avatarFiles(user).size());
  }

  @Test
  @DisplayName("static=1 renders an animated original's first frame (a variant of its own); for a still image it changes nothing")
  void staticFrame() {
    long gif = userWith("images/avatar-64.gif", "image/gif");
    HttpResponse<byte[]> animated = get("/users/" + gif + "/avatar?size=32");
    HttpResponse<byte[]> still = get("/users/" + gif + "/avatar?size=32&static=1");
    assertEquals("image/gif", header(animated, "Content-Type"));
    assertNotEquals(header(animated, "ETag"), header(still, "ETag"));
    assertTrue(RENDERER.specs.contains(new io.avatarserver.variant.VariantSpec(32, VariantFormat.GIF, true)));
    assertTrue(RENDERER.specs.contains(new io.avatarserver.variant.VariantSpec(32, VariantFormat.GIF, false)));

    long jpeg = userWith("images/avatar-256.jpg", "image/jpeg");
    assertEquals(header(get("/users/" + jpeg + "/avatar?size=32"), "ETag"),
      header(get("/users/" + jpeg + "/avatar?size=32&static=1"), "ETag"));
  }

  @Test
  @DisplayName("d=: a user without an avatar gets the default image, or the 404 of today; an unknown user a 404")
  void defaults() throws Exception {
    long user = server.createUser("no avatar");
    Problems.assertRefused(get("/users/" + user + "/avatar?d=404"), 404, "avatar-not-found");
    Problems.assertRefused(get("/users/" + user + "/avatar?size=64"), 404, "avatar-not-found");
    HttpResponse<byte[]> mp = get("/users/" + user + "/avatar?d=mp&size=60");
    assertEquals(200, mp.statusCode());
    assertEquals("image/png", header(mp, "Content-Type"));
    assertEquals(64, side(mp));
    assertEquals(304, get("/users/" + user + "/avatar?d=mp&size=60", "If-None-Match", header(mp, "ETag")).statusCode());
    assertEquals(80, side(get("/users/" + user + "/avatar?d=identicon")));
    Problems.assertRefused(get("/users/987654321/avatar?d=mp"), 404, "avatar-not-found");

    // With an avatar, d= changes nothing: the original, or the variant.
    long with = userWith("images/avatar-256.jpg", "image/jpeg");
    assertArrayEquals(Bodies.fixture("images/avatar-256.jpg"), get("/users/" + with + "/avatar?d=mp").body());
    assertEquals(64, side(get("/users/" + with + "/avatar?d=mp&s=64")));
  }

  @Test
  @DisplayName("without size, s or d the original is served as before")
  void original() {
    byte[] body = Bodies.fixture("images/avatar-256.jpg");
    long user = userWith(body, "image/jpeg");
    HttpResponse<byte[]> response = get("/users/" + user + "/avatar?format=png");
    assertArrayEquals(body, response.body());
    assertEquals("public, no-cache", header(response, "Cache-Control"));
  }

  private static byte[] noisePng(int width, int height) throws Exception {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(7);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, random.nextInt());
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }
}
