export { type DashboardAsset, dashboardAssets, registerDashboard } from './dashboard-assets.ts';
export { boardOf, type EmbeddedFeedOptions, embeddedLiveFeed } from './embedded-feed.ts';
export {
  type KafkaLiveFeedOptions,
  kafkaLiveFeed,
  type LivePublisherOptions,
  type LiveSink,
  liveMessage,
  publishLiveFeed,
  startLivePublisher,
} from './kafka-feed.ts';
export {
  type AcknowledgementStore,
  attachLiveChannel,
  type ChannelLog,
  type LiveChannel,
  type LiveChannelOptions,
} from './live-channel.ts';
export {
  type Bounded,
  bounded,
  type LiveBoard,
  type LiveFeed,
  type LiveFeedListener,
  MAX_LIST_ITEMS,
} from './live-feed.ts';
export {
  type Acknowledgement,
  type AlertEntry,
  alertId,
  type Refusal,
  type Reply,
  type SnapshotMessage,
} from './protocol.ts';
export { HISTORY_POINTS, HISTORY_STEP_MS, type HistoryPoint } from './shift-history.ts';
