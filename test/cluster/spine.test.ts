/** test/e2e/spine.test.ts on a local three-master Redis Cluster (REDIS_CLUSTER_NODES). */
process.env.TEST_REDIS_CLUSTER = '1';
await import('../e2e/spine.test.js');
