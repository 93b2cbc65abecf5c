/** test/chaos/kill-9-burst.test.ts on a local three-master Redis Cluster (REDIS_CLUSTER_NODES). */
process.env.TEST_REDIS_CLUSTER = '1';
await import('../chaos/kill-9-burst.test.js');
