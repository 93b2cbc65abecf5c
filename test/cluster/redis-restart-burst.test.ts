/**
 * test/chaos/redis-restart-burst.test.ts on a local three-master Redis Cluster: the master holding the
 * ingest queue is SIGKILLed mid-burst and restarted on its AOF; nothing answered 200 may be lost, the
 * workers on the masters that stayed up keep working, and the bridge closes afterwards.
 */
process.env.TEST_REDIS_CLUSTER = '1';
await import('../chaos/redis-restart-burst.test.js');
