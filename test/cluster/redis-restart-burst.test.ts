/** test/chaos/redis-restart-burst.test.ts on a local three-master Redis Cluster (REDIS_CLUSTER_NODES). */
process.env.TEST_REDIS_CLUSTER = '1';
await import('../chaos/redis-restart-burst.test.js');
