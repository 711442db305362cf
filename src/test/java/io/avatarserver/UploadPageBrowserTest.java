package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.chromium.ChromiumNetworkConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The upload page in Debian's headless Chromium, driven by Selenium through the packaged chromedriver
 * (nothing is downloaded). {@code .ci/run} installs both and, since it refuses skipped tests, makes
 * these mandatory there; elsewhere they run whenever Chromium is installed. Each test leaves a
 * screenshot in {@code target/screenshots/}.
 */
@DisplayName("The upload page in a real browser")
class UploadPageBrowserTest extends ServerTestBase {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static Path files;
  private ChromeDriver driver;
  private Path profile;
  private String name;

  @BeforeAll
  static void start(Vertx vertx) throws IOException {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
      "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver; .ci/run does it)");
    startServer(vertx);
    files = Files.createTempDirectory("avatar-page-files-");
  }

  @AfterAll
  static void removeFiles() throws IOException {
    if (files != null) {
      try (var walk = Files.walk(files)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @BeforeEach
  void openBrowser(TestInfo info) throws IOException {
    name = info.getTestMethod().orElseThrow().getName();
    profile = Files.createTempDirectory("avatar-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1000,1400",
      "--user-data-dir=" + profile);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
      .usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
  }

  @AfterEach
  void closeBrowser() throws IOException {
    if (driver != null) {
      Path shots = Path.of("target", "screenshots");
      Files.createDirectories(shots);
      File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
      Files.copy(shot.toPath(), shots.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
      driver.quit();
    }
    try (var walk = Files.walk(profile)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private Path file(String fileName, byte[] bytes) throws IOException {
    Path path = files.resolve(fileName);
    Files.write(path, bytes);
    return path;
  }

  /** Opens the page with the user's id and token typed in, and the file chosen. */
  private void open(long user, String token, Path file) {
    driver.get("http://127.0.0.1:" + server.port() + "/");
    driver.findElement(By.id("user-id")).sendKeys(String.valueOf(user));
    driver.findElement(By.id("token")).sendKeys(token);
    if (file != null) {
      driver.findElement(By.id("file")).sendKeys(file.toAbsolutePath().toString());
    }
  }

  private WebElement await(By by, java.util.function.Predicate<WebElement> condition) {
    return new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> {
      WebElement element = d.findElement(by);
      return condition.test(element) ? element : null;
    });
  }

  private static String text(WebElement element) {
    return element.getText();
  }

  private void uploadShows(String fixture, String dimensions) throws IOException {
    long user = server.createUser("page");
    byte[] bytes = Bodies.fixture("images/" + fixture);
    open(user, server.tokenFor(user), file(fixture, bytes));
    assertTrue(driver.findElement(By.id("preview")).isDisplayed(), "a preview before sending");
    driver.findElement(By.id("upload")).click();

    await(By.id("result"), WebElement::isDisplayed);
    assertEquals("100", driver.findElement(By.id("progress")).getAttribute("value"));
    assertTrue(text(driver.findElement(By.id("progress-text"))).contains("(100 %)"));
    assertEquals(dimensions, text(driver.findElement(By.id("info-dimensions"))));
    assertEquals(Bodies.sha256(Images.stored(bytes)), text(driver.findElement(By.id("info-sha256"))));
    assertEquals("Avatar stored.", text(driver.findElement(By.id("notice"))));
    // The served avatar really loaded in the page.
    Object width = ((JavascriptExecutor) driver).executeScript(
      "const img = document.getElementById('avatar'); return img.complete ? img.naturalWidth : -1;");
    assertEquals(Long.parseLong(dimensions.split(" ")[0]), width);
    assertArrayEquals(Images.stored(bytes), server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("A PNG: progress reaches 100 %, then the served avatar and its 128 × 128")
  void png() throws IOException {
    uploadShows("avatar-128.png", "128 × 128");
  }

  @Test
  @DisplayName("A JPEG: progress reaches 100 %, then the served avatar and its 256 × 256")
  void jpeg() throws IOException {
    uploadShows("avatar-256.jpg", "256 × 256");
  }

  @Test
  @DisplayName("An 11 MiB file is stopped before sending; with the page's check bypassed, the server's 413 is shown")
  void tooLarge() throws IOException {
    long user = server.createUser("page-413");
    open(user, server.tokenFor(user), file("big.png", Bodies.png(11 * 1024 * 1024, 3)));
    WebElement check = await(By.id("check"), WebElement::isDisplayed);
    assertTrue(text(check).contains("the limit is 10 MB"), text(check));
    driver.findElement(By.id("upload")).click();
    assertEquals("0", driver.findElement(By.id("progress")).getAttribute("value"), "nothing sent");

    ((JavascriptExecutor) driver).executeScript("window.avatarPage.skipClientChecks = true;");
    driver.findElement(By.id("upload")).click();
    WebElement problem = await(By.id("problem"), WebElement::isDisplayed);
    assertTrue(text(problem).contains("(413)"), text(problem));
    assertTrue(text(problem).contains("larger than the 10 MB limit"), text(problem));
    assertEquals(404, server.get("/users/" + user + "/avatar").statusCode());
  }

  @Test
  @DisplayName("Keyboard alone: Tab reaches user id, token, file, Upload and Delete in order; Enter uploads")
  void keyboardOnly() throws IOException {
    long user = server.createUser("page-keyboard");
    Path image = file("keys.jpg", Bodies.fixture("images/avatar-256.jpg"));
    driver.get("http://127.0.0.1:" + server.port() + "/");
    List<String> order = new java.util.ArrayList<>();
    org.openqa.selenium.interactions.Actions keys = new org.openqa.selenium.interactions.Actions(driver);
    for (int i = 0; i < 8; i++) {
      keys.sendKeys(org.openqa.selenium.Keys.TAB).perform();
      String id = driver.switchTo().activeElement().getAttribute("id");
      order.add(id == null || id.isEmpty() ? driver.switchTo().activeElement().getTagName() : id);
      if ("user-id".equals(id)) {
        keys.sendKeys(String.valueOf(user)).perform();
      } else if ("token".equals(id)) {
        keys.sendKeys(server.tokenFor(user)).perform();
      } else if ("file".equals(id)) {
        // Choosing the file itself opens the system dialog; Selenium sets it on the focused input instead.
        driver.switchTo().activeElement().sendKeys(image.toAbsolutePath().toString());
      }
    }
    assertEquals(List.of("user-id", "token", "file", "upload", "delete"), order.subList(order.indexOf("user-id"),
      order.indexOf("user-id") + 5), order.toString());
    driver.findElement(By.id("upload")).sendKeys(org.openqa.selenium.Keys.ENTER);
    await(By.id("result"), WebElement::isDisplayed);
    assertEquals("256 × 256", text(driver.findElement(By.id("info-dimensions"))));
  }

  @Test
  @DisplayName("Phone-sized (375 px wide): nothing overflows sideways, every control is on screen")
  void phoneSized() {
    driver.manage().window().setSize(new org.openqa.selenium.Dimension(375, 812));
    driver.get("http://127.0.0.1:" + server.port() + "/");
    JavascriptExecutor js = (JavascriptExecutor) driver;
    assertEquals(Boolean.TRUE, js.executeScript(
      "return document.documentElement.scrollWidth <= window.innerWidth;"), "horizontal overflow");
    Object offscreen = js.executeScript("return [...document.querySelectorAll('input, button, progress')]"
      + ".filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; })"
      + ".map(e => e.id);");
    assertEquals(List.of(), offscreen);
  }

  @Test
  @DisplayName("A file that is not JPEG, PNG, GIF or WebP is stopped before sending")
  void wrongType() throws IOException {
    long user = server.createUser("page-type");
    java.io.ByteArrayOutputStream bmp = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB), "bmp", bmp);
    open(user, server.tokenFor(user), file("picture.bmp", bmp.toByteArray()));
    WebElement check = await(By.id("check"), WebElement::isDisplayed);
    assertTrue(text(check).contains("is not a JPEG, PNG, GIF or WebP image"), text(check));
    driver.findElement(By.id("upload")).click();
    assertEquals("0", driver.findElement(By.id("progress")).getAttribute("value"), "nothing sent");
    assertEquals(404, server.get("/users/" + user + "/avatar").statusCode());
  }

  @Test
  @DisplayName("A wrong token shows the 401 message in words a person understands")
  void wrongToken() throws IOException {
    long user = server.createUser("page-401");
    open(user, "not-a-token", file("a.png", Bodies.fixture("images/avatar-128.png")));
    driver.findElement(By.id("upload")).click();
    WebElement problem = await(By.id("problem"), WebElement::isDisplayed);
    assertTrue(text(problem).contains("(401)"), text(problem));
    assertTrue(text(problem).contains("Mint a new one"), text(problem));
  }

  @Test
  @DisplayName("Cancel mid-upload: the request is aborted and the previous avatar stays")
  void cancel() throws IOException {
    long user = server.createUser("page-cancel");
    byte[] previous = Bodies.fixture("images/avatar-64.gif");
    assertEquals(201, server.put(user, "image/gif", previous).statusCode());
    // A slow uplink (about 256 KB/s), so that there is time to cancel.
    ChromiumNetworkConditions slow = new ChromiumNetworkConditions();
    slow.setUploadThroughput(256 * 1024);
    slow.setDownloadThroughput(10 * 1024 * 1024);
    slow.setLatency(Duration.ofMillis(5));
    driver.setNetworkConditions(slow);
    open(user, server.tokenFor(user), file("slow.png", Bodies.png(8 * 1024 * 1024, 5)));
    driver.findElement(By.id("upload")).click();
    await(By.id("progress"), p -> {
      int value = Integer.parseInt(p.getAttribute("value"));
      return value > 0 && value < 50;
    });
    driver.findElement(By.id("cancel")).click();

    WebElement notice = await(By.id("notice"), WebElement::isDisplayed);
    assertTrue(text(notice).startsWith("Upload cancelled"), text(notice));
    assertEquals(List.of(), server.awaitNoStagedFiles(), "the partial file is deleted");
    assertArrayEquals(previous, server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("Delete removes the avatar")
  void delete() throws IOException {
    long user = server.createUser("page-delete");
    assertEquals(201, server.put(user, "image/jpeg", Bodies.fixture("images/avatar-256.jpg")).statusCode());
    open(user, server.tokenFor(user), null);
    driver.findElement(By.id("delete")).click();
    WebElement notice = await(By.id("notice"), WebElement::isDisplayed);
    assertEquals("Avatar deleted.", text(notice));
    assertEquals(404, server.get("/users/" + user + "/avatar").statusCode());
  }

  @Test
  @DisplayName("The page: security headers, every control labelled, the token never in the URL")
  void pageBasics() {
    HttpResponse<byte[]> page = server.get("/");
    assertEquals(200, page.statusCode());
    String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
    assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
    assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(""));

    driver.get("http://127.0.0.1:" + server.port() + "/");
    Object unlabelled = ((JavascriptExecutor) driver).executeScript(
      "return [...document.querySelectorAll('input, progress')].filter(e => e.labels.length === 0).map(e => e.id);");
    assertEquals(List.of(), unlabelled);
    driver.findElement(By.id("token")).sendKeys("secret-token");
    assertEquals("secret-token", ((JavascriptExecutor) driver).executeScript(
      "return sessionStorage.getItem('avatar-server.token');"));
    assertTrue(!driver.getCurrentUrl().contains("secret-token"));
    assertEquals(TestServer.json(server.get("/openapi.json")).getString("openapi"), "3.1.0");
  }

  @Test
  @DisplayName("/docs: Swagger UI, from the jar and under its CSP, renders every operation of /openapi.json")
  void docs() {
    HttpResponse<byte[]> docs = server.get("/docs");
    assertEquals(200, docs.statusCode());
    assertTrue(docs.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self';"));
    driver.get("http://127.0.0.1:" + server.port() + "/docs");
    int operations = TestServer.json(server.get("/openapi.json")).getJsonObject("paths").stream()
      .mapToInt(e -> (int) ((io.vertx.core.json.JsonObject) e.getValue()).fieldNames().stream()
        .filter(k -> !k.equals("parameters")).count())
      .sum();
    Object rendered = new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> {
      Object n = ((JavascriptExecutor) d).executeScript("return document.querySelectorAll('.opblock').length;");
      return ((Long) n) >= operations ? n : null;
    });
    assertEquals((long) operations, rendered);
  }
}
