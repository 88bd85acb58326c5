"""What the offline tools and the tests share: the shared data, a Serve app on loopback, an API client."""
