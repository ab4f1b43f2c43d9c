import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { EnrollReply, EnrollRequest, Headers, Subjects } from '@app/contracts';
import { EnrollmentService } from './enrollment.service';

@Controller()
export class EnrollmentHandler {
  constructor(private readonly enrollment: EnrollmentService) {}

  /** The enrollment token travels in a header, never in the body (bodies get logged). */
  @MessagePattern(Subjects.enroll)
  enroll(@Payload() request: EnrollRequest, @Ctx() context: NatsContext): Promise<EnrollReply> {
    const token = context.getHeaders()?.get(Headers.enrollmentToken) || undefined;
    return this.enrollment.enroll(token, request);
  }
}
