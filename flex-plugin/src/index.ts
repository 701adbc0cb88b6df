import * as FlexPlugin from '@twilio/flex-plugin';

import ConversationTransfersPlugin from './ConversationTransfersPlugin';

FlexPlugin.loadPlugin(ConversationTransfersPlugin);
