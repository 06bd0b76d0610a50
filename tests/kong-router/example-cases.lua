return {
  { name = "plain", route = { id = "r1", protocols = { "http", "https" }, hosts = { "shop.example.com" },
    paths = { "/cart" }, regex_priority = 0 } },
  { name = "four-kinds", route = { id = "r2", protocols = { "http" }, methods = { "GET" }, hosts = { "*.a" },
    paths = { "/x" }, headers = { ["X-Tenant"] = { "Blue", "~*^r.d$" } }, regex_priority = 0 } },
  { name = "split", route = { id = "r3", protocols = { "http" }, paths = { "/a", "~/b(?<n>\\d+)$", "/cc", "/d" },
    regex_priority = 5 } },
  { name = "stream", route = { id = "r4", protocols = { "tls" }, snis = { "*.db.example" },
    destinations = { { ip = "10.0.0.0/8", port = 5432 } } } },
}
