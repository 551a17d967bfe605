import { Module } from '@nestjs/common';
import { ClientBundleController } from './client-bundle.controller.js';
import { BUILT_CLIENT_BUNDLE, CLIENT_BUNDLE_FILE, ClientBundleService } from './client-bundle.service.js';

@Module({
  controllers: [ClientBundleController],
  providers: [ClientBundleService, { provide: CLIENT_BUNDLE_FILE, useValue: BUILT_CLIENT_BUNDLE }],
})
export class ClientBundleModule {}
